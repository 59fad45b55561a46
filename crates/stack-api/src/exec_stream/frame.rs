//! The frames an attached exec exchanges once the connection is upgraded:
//! 1 byte type, 4 bytes big-endian payload length, the payload.
//!
//! | type | direction | payload |
//! |---|---|---|
//! | 0 stdin | client to daemon | bytes for the command's stdin |
//! | 1 stdout | daemon to client | bytes (with a tty, everything the command prints) |
//! | 2 stderr | daemon to client | bytes (never with a tty) |
//! | 3 exit | daemon to client | exit code, i32 big-endian; always the last frame |
//! | 4 stdin-closed | client to daemon | empty: the command's stdin reaches EOF (a tty: Ctrl-D) |
//! | 5 resize | client to daemon | rows u16 BE, cols u16 BE |
//! | 6 signal | client to daemon | signal number, i32 BE, sent to the command |
//!
//! The daemon sends an empty stdout frame every 2 s to a session whose
//! command is silent, to learn that a client has gone; clients ignore it.

use std::io::{self, Read, Write};

use tokio::io::{AsyncRead, AsyncReadExt};

/// The largest payload accepted, so a broken peer cannot make either side
/// allocate without bound.
pub const MAX_PAYLOAD: usize = 1 << 20;

/// How many bytes of output or input one frame carries at most when
/// copying a stream.
pub const CHUNK: usize = 32 * 1024;

/// One message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Stdin(Vec<u8>),
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
    Exit(i32),
    StdinClosed,
    Resize { rows: u16, cols: u16 },
    Signal(i32),
}

impl Frame {
    fn kind(&self) -> u8 {
        match self {
            Frame::Stdin(_) => 0,
            Frame::Stdout(_) => 1,
            Frame::Stderr(_) => 2,
            Frame::Exit(_) => 3,
            Frame::StdinClosed => 4,
            Frame::Resize { .. } => 5,
            Frame::Signal(_) => 6,
        }
    }

    /// The frame's bytes on the wire.
    pub fn encode(&self) -> Vec<u8> {
        let payload: Vec<u8> = match self {
            Frame::Stdin(b) | Frame::Stdout(b) | Frame::Stderr(b) => b.clone(),
            Frame::Exit(code) | Frame::Signal(code) => code.to_be_bytes().to_vec(),
            Frame::StdinClosed => Vec::new(),
            Frame::Resize { rows, cols } => {
                let mut p = rows.to_be_bytes().to_vec();
                p.extend_from_slice(&cols.to_be_bytes());
                p
            }
        };
        let mut out = Vec::with_capacity(5 + payload.len());
        out.push(self.kind());
        out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        out.extend_from_slice(&payload);
        out
    }

    /// A frame from its type byte and payload.
    pub fn decode(kind: u8, payload: Vec<u8>) -> io::Result<Frame> {
        let int = |p: &[u8]| -> io::Result<i32> {
            let bytes: [u8; 4] = p
                .try_into()
                .map_err(|_| invalid(format!("frame type {kind}: payload of 4 bytes expected")))?;
            Ok(i32::from_be_bytes(bytes))
        };
        Ok(match kind {
            0 => Frame::Stdin(payload),
            1 => Frame::Stdout(payload),
            2 => Frame::Stderr(payload),
            3 => Frame::Exit(int(&payload)?),
            4 => Frame::StdinClosed,
            5 => {
                if payload.len() != 4 {
                    return Err(invalid("resize frame: payload of 4 bytes expected".into()));
                }
                Frame::Resize {
                    rows: u16::from_be_bytes([payload[0], payload[1]]),
                    cols: u16::from_be_bytes([payload[2], payload[3]]),
                }
            }
            6 => Frame::Signal(int(&payload)?),
            other => return Err(invalid(format!("unknown frame type {other}"))),
        })
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

fn length(header: &[u8; 5]) -> io::Result<usize> {
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if len > MAX_PAYLOAD {
        return Err(invalid(format!(
            "frame of {len} bytes is larger than {MAX_PAYLOAD}"
        )));
    }
    Ok(len)
}

/// Reads one frame; `None` when the stream ends cleanly between frames.
pub fn read(r: &mut impl Read) -> io::Result<Option<Frame>> {
    let mut header = [0u8; 5];
    match r.read_exact(&mut header[..1]) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    r.read_exact(&mut header[1..])?;
    let mut payload = vec![0u8; length(&header)?];
    r.read_exact(&mut payload)?;
    Frame::decode(header[0], payload).map(Some)
}

/// Writes one frame.
pub fn write(w: &mut impl Write, frame: &Frame) -> io::Result<()> {
    w.write_all(&frame.encode())
}

/// Reads one frame from an async stream; `None` at a clean end. Not
/// cancel-safe: read frames from one task that owns the stream.
pub async fn read_async(r: &mut (impl AsyncRead + Unpin)) -> io::Result<Option<Frame>> {
    let mut header = [0u8; 5];
    match r.read_exact(&mut header[..1]).await {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    r.read_exact(&mut header[1..]).await?;
    let mut payload = vec![0u8; length(&header)?];
    r.read_exact(&mut payload).await?;
    Frame::decode(header[0], payload).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_frame_round_trips() {
        let frames = [
            Frame::Stdin(b"abc".to_vec()),
            Frame::Stdout(vec![0, 1, 2]),
            Frame::Stderr(Vec::new()),
            Frame::Exit(-1),
            Frame::Exit(127),
            Frame::StdinClosed,
            Frame::Resize {
                rows: 40,
                cols: 132,
            },
            Frame::Signal(15),
        ];
        let mut wire = Vec::new();
        for f in &frames {
            write(&mut wire, f).expect("write");
        }
        let mut r = wire.as_slice();
        for f in &frames {
            assert_eq!(read(&mut r).expect("read").as_ref(), Some(f));
        }
        assert_eq!(read(&mut r).expect("end"), None);
    }

    #[test]
    fn layout_is_type_length_payload() {
        assert_eq!(Frame::Exit(3).encode(), [3, 0, 0, 0, 4, 0, 0, 0, 3]);
        assert_eq!(
            Frame::Resize { rows: 24, cols: 80 }.encode(),
            [5, 0, 0, 0, 4, 0, 24, 0, 80]
        );
        assert_eq!(Frame::StdinClosed.encode(), [4, 0, 0, 0, 0]);
    }

    #[test]
    fn bad_frames_are_errors() {
        let unknown = [9u8, 0, 0, 0, 0];
        assert!(read(&mut unknown.as_slice()).is_err());
        let short_exit = [3u8, 0, 0, 0, 1, 7];
        assert!(read(&mut short_exit.as_slice()).is_err());
        let huge = [1u8, 0xff, 0xff, 0xff, 0xff];
        assert!(read(&mut huge.as_slice()).is_err());
        let cut = [1u8, 0, 0, 0, 5, b'a'];
        assert!(read(&mut cut.as_slice()).is_err());
    }

    #[tokio::test]
    async fn async_reader_agrees() {
        let wire = [
            Frame::Stdout(b"x".to_vec()).encode(),
            Frame::Exit(0).encode(),
        ]
        .concat();
        let mut r = wire.as_slice();
        assert_eq!(
            read_async(&mut r).await.expect("read"),
            Some(Frame::Stdout(b"x".to_vec()))
        );
        assert_eq!(
            read_async(&mut r).await.expect("read"),
            Some(Frame::Exit(0))
        );
        assert_eq!(read_async(&mut r).await.expect("end"), None);
    }
}
