//! The byte stream under the tar parser, watched.
//!
//! The `tar` crate reads a GNU sparse file's extension headers (the part
//! of its map beyond the first four segments) without showing them, and
//! serves the holes as zeros through its reader: a 10 KB layer could make
//! us read, and write, 20 GB of zeros. This tap sits between the stream
//! and the parser and makes two things possible:
//!
//! - while the parser reads an entry's headers, the tap keeps their last
//!   bytes, so the extension headers (always the last blocks read before
//!   the entry is handed out) can be parsed here;
//! - the data segments of a GNU sparse file are read *past* the parser
//!   ([`Tap::read_out_of_band`]); the parser then skips that many bytes
//!   when it moves to the next entry, and the tap hands it zeros for them
//!   instead of the stream, so its positions stay right and no hole is
//!   ever materialized.
//!
//! It also bounds the bytes one entry's headers may take (PAX records,
//! long names, sparse maps), which the parser would read whole into memory.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Read;

/// Most bytes the headers of one entry may take.
pub const HEADER_LIMIT: u64 = 16 * 1024 * 1024;

/// Most segments one sparse file may have.
pub const MAX_SEGMENTS: usize = 32 * 1024;

/// GNU extension headers (21 segments each) that [`MAX_SEGMENTS`] allows:
/// the most header blocks one sparse entry can span, which is what the
/// header ring below must hold.
pub const MAX_GNU_EXTENSION_HEADERS: usize = MAX_SEGMENTS.div_ceil(21);

/// Header bytes kept for [`Tap::last_header_bytes`].
const RING: usize = 512 * (1 + MAX_GNU_EXTENSION_HEADERS);

pub struct Tap<'a> {
    inner: RefCell<&'a mut dyn Read>,
    state: RefCell<State>,
}

#[derive(Default)]
struct State {
    /// Bytes handed to the parser: its own positions.
    position: u64,
    /// Bytes read past the parser that it has yet to skip.
    owed: u64,
    recording: bool,
    recorded: u64,
    ring: VecDeque<u8>,
    /// `position` when the last entry's headers were done.
    headers_end: u64,
    /// Bytes read past the parser since then.
    out_of_band: u64,
}

impl<'a> Tap<'a> {
    pub fn new(inner: &'a mut dyn Read) -> Tap<'a> {
        Tap {
            inner: RefCell::new(inner),
            state: RefCell::new(State::default()),
        }
    }

    /// Called before asking the parser for the next entry.
    pub fn start_headers(&self) {
        let mut st = self.state.borrow_mut();
        st.recording = true;
        st.recorded = 0;
        st.ring.clear();
    }

    /// Called once the parser handed out the entry.
    pub fn end_headers(&self) {
        let mut st = self.state.borrow_mut();
        st.recording = false;
        st.headers_end = st.position;
        st.out_of_band = 0;
    }

    /// The parser's position when the last entry's headers were done.
    pub fn headers_end(&self) -> u64 {
        self.state.borrow().headers_end
    }

    /// The last `n` bytes of the last entry's headers, if still kept.
    pub fn last_header_bytes(&self, n: usize) -> Option<Vec<u8>> {
        let st = self.state.borrow();
        let start = st.ring.len().checked_sub(n)?;
        Some(st.ring.range(start..).copied().collect())
    }

    /// Reads the stream past the parser (see the module docs).
    pub fn read_out_of_band(&self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.borrow_mut().read(buf)?;
        let mut st = self.state.borrow_mut();
        st.owed += n as u64;
        st.out_of_band += n as u64;
        Ok(n)
    }

    /// Reads past the parser whatever of the last entry's `stored` data
    /// bytes was not read that way yet (a GNU sparse entry that was not
    /// written: a whiteout, say), so that the parser's skip over it costs
    /// nothing from the next entry's header budget. A stream that ends
    /// early is left for the parser to report.
    pub fn finish_out_of_band(&self, stored: u64, buffer: &mut [u8]) -> std::io::Result<()> {
        let mut left = stored.saturating_sub(self.state.borrow().out_of_band);
        while left > 0 {
            let want = usize::try_from(left)
                .unwrap_or(usize::MAX)
                .min(buffer.len());
            match self.read_out_of_band(&mut buffer[..want]) {
                Ok(0) => break,
                Ok(n) => left -= n as u64,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

impl Read for &Tap<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let mut st = self.state.borrow_mut();
        if st.owed > 0 {
            let n = usize::try_from(st.owed)
                .unwrap_or(usize::MAX)
                .min(buf.len());
            buf[..n].fill(0);
            st.owed -= n as u64;
            st.position += n as u64;
            return Ok(n);
        }
        let n = self.inner.borrow_mut().read(buf)?;
        st.position += n as u64;
        if st.recording {
            st.recorded += n as u64;
            if st.recorded > HEADER_LIMIT {
                return Err(std::io::Error::other(format!(
                    "the headers of one entry take more than {HEADER_LIMIT} bytes"
                )));
            }
            st.ring.extend(&buf[n.saturating_sub(RING)..n]);
            let excess = st.ring.len().saturating_sub(RING);
            st.ring.drain(..excess);
        }
        Ok(n)
    }
}
