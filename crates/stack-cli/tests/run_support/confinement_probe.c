/* Tries one thing a container may or may not be allowed to do and prints
 * "allowed" or "refused <errno name>". Used by the table-driven checks of a
 * default container's confinement (devices, syscalls) against Docker's
 * default profile. Usage: probe open PATH rw|r|w
 *                         probe mknod PATH b|c MAJOR MINOR
 *                         probe syscall NAME
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static int report(long rc) {
    if (rc >= 0) {
        puts("allowed");
        return 0;
    }
    printf("refused %s\n", strerrorname_np(errno) ? strerrorname_np(errno) : "?");
    return 0;
}

static long try_syscall(const char *name) {
    if (!strcmp(name, "vsock")) return socket(AF_VSOCK, SOCK_STREAM, 0);
    if (!strcmp(name, "inet")) return socket(AF_INET, SOCK_STREAM, 0);
    if (!strcmp(name, "unix")) return socket(AF_UNIX, SOCK_STREAM, 0);
    if (!strcmp(name, "unshare-net")) return unshare(CLONE_NEWNET);
    if (!strcmp(name, "unshare-user")) return unshare(CLONE_NEWUSER);
    if (!strcmp(name, "mount")) return mount("none", "/tmp", "tmpfs", 0, NULL);
    if (!strcmp(name, "keyctl")) return syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3, 0);
    if (!strcmp(name, "add_key")) return syscall(SYS_add_key, "user", "k", "v", 1, -3);
    if (!strcmp(name, "bpf")) return syscall(SYS_bpf, 0, NULL, 0);
    if (!strcmp(name, "perf_event_open")) return syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0);
    if (!strcmp(name, "kexec_load")) return syscall(SYS_kexec_load, 0, 0, NULL, 0);
    if (!strcmp(name, "open_by_handle_at")) return syscall(SYS_open_by_handle_at, -1, NULL, 0);
    if (!strcmp(name, "init_module")) return syscall(SYS_init_module, NULL, 0, "");
    if (!strcmp(name, "swapon")) return syscall(SYS_swapon, "/nonexistent", 0);
    if (!strcmp(name, "getpid")) return getpid();
    if (!strcmp(name, "chown")) return chown("/tmp", 0, 0);
    if (!strcmp(name, "setuid")) return setuid(0);
    fprintf(stderr, "unknown syscall probe %s\n", name);
    exit(2);
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "open")) {
        int flags = !strcmp(argv[3], "rw") ? O_RDWR : !strcmp(argv[3], "w") ? O_WRONLY : O_RDONLY;
        return report(open(argv[2], flags | O_NONBLOCK | O_NOCTTY));
    }
    if (argc == 6 && !strcmp(argv[1], "mknod")) {
        mode_t type = argv[3][0] == 'b' ? S_IFBLK : S_IFCHR;
        return report(mknod(argv[2], type | 0600, makedev(atoi(argv[4]), atoi(argv[5]))));
    }
    if (argc == 3 && !strcmp(argv[1], "syscall")) return report(try_syscall(argv[2]));
    fprintf(stderr, "usage: probe open PATH r|w|rw | mknod PATH b|c MAJ MIN | syscall NAME\n");
    return 2;
}
