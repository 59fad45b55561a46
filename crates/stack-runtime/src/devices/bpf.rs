//! Device rules as a cgroup v2 BPF program (`BPF_PROG_TYPE_CGROUP_DEVICE`),
//! the only device controller cgroup v2 has. The program is a straight
//! list of checks, one block per rule, last rule first (a later rule
//! overrides an earlier one, as on v1); no rule matching means deny.
//!
//! Hand-assembled rather than through a BPF library: the program is a few
//! dozen fixed instructions, and the `stack` binary stays free of libbpf.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use super::{DeviceKind, DeviceRule};
use crate::error::{Context, Error};

// Kernel ABI (include/uapi/linux/bpf.h).
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;
/// Programs of the parent cgroups keep running too.
const BPF_F_ALLOW_MULTI: u32 = 2;
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;
const ACC_MKNOD: i32 = 1;
const ACC_READ: i32 = 2;
const ACC_WRITE: i32 = 4;

/// One BPF instruction.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    code: u8,
    regs: u8,
    off: i16,
    imm: i32,
}

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (src << 4) | dst,
        off,
        imm,
    }
}

/// r<dst> = *(u32 *)(r1 + off)
fn load_ctx(dst: u8, off: i16) -> Insn {
    insn(0x61, dst, 1, off, 0)
}
/// w<dst> &= imm
fn and(dst: u8, imm: i32) -> Insn {
    insn(0x54, dst, 0, 0, imm)
}
/// w<dst> >>= imm
fn rsh(dst: u8, imm: i32) -> Insn {
    insn(0x74, dst, 0, 0, imm)
}
/// w<dst> = w<src>
fn mov_reg(dst: u8, src: u8) -> Insn {
    insn(0xbc, dst, src, 0, 0)
}
/// r<dst> = imm
fn mov_imm(dst: u8, imm: i32) -> Insn {
    insn(0xb7, dst, 0, 0, imm)
}
/// if r<dst> != imm goto +off
fn jne(dst: u8, imm: i32, off: i16) -> Insn {
    insn(0x55, dst, 0, off, imm)
}
fn exit() -> Insn {
    insn(0x95, 0, 0, 0, 0)
}

fn access_bits(rule: &DeviceRule) -> i32 {
    let a = rule.access;
    (if a.read { ACC_READ } else { 0 })
        | (if a.write { ACC_WRITE } else { 0 })
        | (if a.mknod { ACC_MKNOD } else { 0 })
}

/// The program for `rules`. Registers: r2 device type, r3 access asked,
/// r4 major, r5 minor (from `struct bpf_cgroup_dev_ctx`), r6 scratch.
pub fn program(rules: &[DeviceRule]) -> Vec<Insn> {
    let mut prog = vec![
        load_ctx(2, 0),
        and(2, 0xffff),
        load_ctx(3, 0),
        rsh(3, 16),
        load_ctx(4, 4),
        load_ctx(5, 8),
    ];
    for rule in rules.iter().rev() {
        // Each check jumps past the rest of this block when it fails.
        let mut checks: Vec<(u8, i32, Option<Insn>)> = Vec::new();
        match rule.kind {
            DeviceKind::All => {}
            DeviceKind::Char => checks.push((2, DEV_CHAR, None)),
            DeviceKind::Block => checks.push((2, DEV_BLOCK, None)),
        }
        let bits = access_bits(rule);
        if bits != ACC_MKNOD | ACC_READ | ACC_WRITE {
            // Asked for anything outside the rule's access: no match.
            checks.push((6, 0, Some(and(6, !bits & 7))));
        }
        if let Some(major) = rule.major {
            checks.push((4, major as i32, None));
        }
        if let Some(minor) = rule.minor {
            checks.push((5, minor as i32, None));
        }
        let block_len: usize = checks
            .iter()
            .map(|(_, _, pre)| if pre.is_some() { 3 } else { 1 })
            .sum::<usize>()
            + 2;
        let mut emitted = 0;
        for (reg, value, pre) in checks {
            if let Some(pre) = pre {
                prog.push(mov_reg(6, 3));
                prog.push(pre);
                emitted += 2;
            }
            emitted += 1;
            prog.push(jne(reg, value, (block_len - emitted) as i16));
        }
        prog.push(mov_imm(0, i32::from(rule.allow)));
        prog.push(exit());
    }
    prog.push(mov_imm(0, 0));
    prog.push(exit());
    prog
}

#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

#[repr(C)]
#[derive(Default)]
struct ProgAttachAttr {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
}

fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> std::io::Result<i32> {
    // SAFETY: attr is a live, correctly sized bpf_attr prefix for `cmd`;
    // the kernel reads (and for PROG_LOAD writes the log into) only the
    // buffers it points to, which outlive the call.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr as *mut T as *mut libc::c_void,
            std::mem::size_of::<T>() as libc::c_uint,
        )
    };
    if ret < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(ret as i32)
    }
}

/// BPF_PROG_LOAD of a device program; `log` asks the verifier for its
/// reasons.
fn load(insns: &[Insn], log: Option<&mut Vec<u8>>) -> std::io::Result<i32> {
    let license = c"Apache-2.0";
    let mut attr = ProgLoadAttr {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: insns.len() as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        ..Default::default()
    };
    if let Some(log) = log {
        attr.log_level = 1;
        attr.log_size = log.len() as u32;
        attr.log_buf = log.as_mut_ptr() as u64;
    }
    attr.prog_name[..7].copy_from_slice(b"devices");
    bpf(BPF_PROG_LOAD, &mut attr)
}

/// Loads the program for `rules` and attaches it to the cgroup v2
/// directory `cgroup` (the program stays attached after its fd closes, and
/// goes with the cgroup).
pub fn attach(cgroup: &Path, rules: &[DeviceRule]) -> Result<(), Error> {
    let insns = program(rules);
    // Without a log first: asking the verifier for one makes every load
    // slower, and this runs on every container start. Only a refused
    // program is loaded again with the log, for the error.
    let prog = load(&insns, None).or_else(|_| {
        let mut log = vec![0u8; 64 * 1024];
        load(&insns, Some(&mut log)).map_err(|e| {
            let verifier = String::from_utf8_lossy(&log);
            let verifier = verifier.trim_end_matches('\0').trim();
            Error::io(
                format!(
                    "load the device filter for {} ({verifier})",
                    cgroup.display()
                ),
                e,
            )
        })
    })?;
    // SAFETY: the kernel just returned this descriptor.
    let prog = unsafe { OwnedFd::from_raw_fd(prog) };
    let dir = std::fs::File::open(cgroup).context(|| format!("open {}", cgroup.display()))?;
    let mut attach = ProgAttachAttr {
        target_fd: dir.as_raw_fd() as u32,
        attach_bpf_fd: prog.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        attach_flags: BPF_F_ALLOW_MULTI,
    };
    bpf(BPF_PROG_ATTACH, &mut attach)
        .map(drop)
        .context(|| format!("attach the device filter to {}", cgroup.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(texts: &[&str]) -> Vec<DeviceRule> {
        texts.iter().map(|t| t.parse().expect(t)).collect()
    }

    /// Runs the program on one request, as the kernel would: enough of an
    /// interpreter for the instructions [`program`] emits.
    fn run(prog: &[Insn], kind: i32, access: i32, major: u32, minor: u32) -> i64 {
        let ctx = [((access as u32) << 16) | kind as u32, major, minor];
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        loop {
            let i = prog[pc];
            let (dst, src) = ((i.regs & 0xf) as usize, (i.regs >> 4) as usize);
            pc += 1;
            match i.code {
                0x61 => r[dst] = u64::from(ctx[i.off as usize / 4]),
                0x54 => r[dst] = (r[dst] as u32 & i.imm as u32) as u64,
                0x74 => r[dst] = ((r[dst] as u32) >> i.imm) as u64,
                0xbc => r[dst] = r[src] as u32 as u64,
                0xb7 => r[dst] = i.imm as i64 as u64,
                0x55 => {
                    if r[dst] != i.imm as i64 as u64 {
                        pc += i.off as usize;
                    }
                }
                0x95 => return r[0] as i64,
                other => panic!("unexpected opcode {other:#x}"),
            }
        }
    }

    #[test]
    fn the_program_decides_as_the_rules_do() {
        let list = rules(&["c *:* m", "b *:* m", "c 1:3 rwm", "c 136:* rwm", "b 7:0 r"]);
        let prog = program(&list);
        let kinds = [(DEV_CHAR, DeviceKind::Char), (DEV_BLOCK, DeviceKind::Block)];
        for (k, kind) in kinds {
            for access in 1..8 {
                for (major, minor) in [(1, 3), (1, 5), (136, 4), (7, 0), (7, 1), (8, 0)] {
                    let asked = super::super::Access {
                        mknod: access & ACC_MKNOD != 0,
                        read: access & ACC_READ != 0,
                        write: access & ACC_WRITE != 0,
                    };
                    let want = list
                        .iter()
                        .rev()
                        .find(|r| r.matches(kind, major, minor, asked))
                        .is_some_and(|r| r.allow);
                    let got = run(&prog, k, access, major, minor) == 1;
                    assert_eq!(got, want, "{kind:?} {major}:{minor} access {access}");
                }
            }
        }
    }

    #[test]
    fn no_rules_deny_everything() {
        let prog = program(&[]);
        assert_eq!(run(&prog, DEV_CHAR, ACC_READ, 1, 3), 0);
    }
}
