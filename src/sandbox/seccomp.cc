// The seccomp filter of every environment (libseccomp): allow by default, refuse with EPERM what a
// function never needs and what would let it reach past its sandbox — mounts, namespaces, tracing,
// kernel modules and kexec, BPF, keyrings, clock and swap control, reboot, NUMA placement, other
// processes' descriptors. clone3 answers ENOSYS so that libc falls back to clone, whose flags a
// filter can inspect (clone3 passes them in memory); io_uring answers ENOSYS too (libraries fall
// back to epoll; its kernel surface is what Docker's and gVisor's defaults refuse). Sockets only
// of the families functions use — unix, IPv4, IPv6, netlink — others (vsock, which network
// namespaces do not isolate; packet, alg, rds, tipc, bluetooth, …) fail with EAFNOSUPPORT.
// The list and the reasons: docs/decisions/0009-sandbox-syscalls-and-mounts.md.
#include <errno.h>
#include <sched.h>
#include <seccomp.h>

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "sandbox/spawner.h"

namespace lambent::sandbox {

namespace {

// Builds the filter in libseccomp's form; the caller releases it.
scmp_filter_ctx build(int* rc_out) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) {
    *rc_out = -ENOMEM;
    return nullptr;
  }
  const int denied[] = {
      SCMP_SYS(mount),
      SCMP_SYS(umount2),
      SCMP_SYS(pivot_root),
      SCMP_SYS(chroot),
      SCMP_SYS(ptrace),
      SCMP_SYS(process_vm_readv),
      SCMP_SYS(process_vm_writev),
      SCMP_SYS(kexec_load),
      SCMP_SYS(kexec_file_load),
      SCMP_SYS(init_module),
      SCMP_SYS(finit_module),
      SCMP_SYS(delete_module),
      SCMP_SYS(bpf),
      SCMP_SYS(perf_event_open),
      SCMP_SYS(keyctl),
      SCMP_SYS(add_key),
      SCMP_SYS(request_key),
      SCMP_SYS(reboot),
      SCMP_SYS(swapon),
      SCMP_SYS(swapoff),
      SCMP_SYS(setns),
      SCMP_SYS(unshare),
      SCMP_SYS(acct),
      SCMP_SYS(quotactl),
      SCMP_SYS(open_by_handle_at),
      SCMP_SYS(name_to_handle_at),
      SCMP_SYS(userfaultfd),
      SCMP_SYS(syslog),
      SCMP_SYS(settimeofday),
      SCMP_SYS(clock_settime),
      SCMP_SYS(clock_adjtime),
      SCMP_SYS(adjtimex),
      SCMP_SYS(iopl),
      SCMP_SYS(ioperm),
      SCMP_SYS(lookup_dcookie),
      SCMP_SYS(vhangup),
      SCMP_SYS(fsopen),
      SCMP_SYS(fsmount),
      SCMP_SYS(fsconfig),
      SCMP_SYS(fspick),
      SCMP_SYS(move_mount),
      SCMP_SYS(open_tree),
      SCMP_SYS(mount_setattr),
      SCMP_SYS(personality),
      SCMP_SYS(uselib),
      SCMP_SYS(kcmp),
      SCMP_SYS(pidfd_getfd),
      SCMP_SYS(process_madvise),
      SCMP_SYS(mbind),
      SCMP_SYS(set_mempolicy),
      SCMP_SYS(migrate_pages),
      SCMP_SYS(move_pages),
      SCMP_SYS(fanotify_init),
      SCMP_SYS(quotactl_fd),
      SCMP_SYS(nfsservctl),
      SCMP_SYS(sysfs),
      SCMP_SYS(_sysctl),
      SCMP_SYS(ustat),
      SCMP_SYS(vm86),
      SCMP_SYS(vm86old),
  };
  int rc = 0;
  for (int sys : denied) {
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), sys, 0);
    if (rc < 0 && rc != -EDOM) break;  // -EDOM: syscall unknown on this arch, nothing to deny
    rc = 0;
  }
  // clone with any namespace flag is refused (one rule per flag: rules on a syscall are OR-ed);
  // plain fork and thread creation are not.
  for (uint64_t flag : {CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
                        CLONE_NEWNET, CLONE_NEWCGROUP}) {
    if (rc != 0) break;
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                          SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
  }
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  for (int sys :
       {SCMP_SYS(io_uring_setup), SCMP_SYS(io_uring_enter), SCMP_SYS(io_uring_register)}) {
    if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), sys, 0);
  }
  // Socket families: everything but AF_UNIX, AF_INET, AF_INET6 and AF_NETLINK.
  for (int sys : {SCMP_SYS(socket), SCMP_SYS(socketpair)}) {
    if (rc == 0) {
      rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), sys, 1,
                            SCMP_A0(SCMP_CMP_GT, static_cast<scmp_datum_t>(AF_NETLINK)));
    }
    for (int family = 0; family < AF_NETLINK && rc == 0; ++family) {
      if (family == AF_UNIX || family == AF_INET || family == AF_INET6) continue;
      rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), sys, 1,
                            SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family)));
    }
  }
  *rc_out = rc;
  return ctx;
}

}  // namespace

Result<std::vector<sock_filter>> compile_seccomp() {
  int rc = 0;
  scmp_filter_ctx ctx = build(&rc);
  if (!ctx || rc != 0) {
    if (ctx) seccomp_release(ctx);
    return make_error(Errc::kInternal, std::string("seccomp: ") + std::strerror(-rc));
  }
  // libseccomp 2.5 exports BPF only to a file descriptor.
  int fd = ::memfd_create("lambent-seccomp", MFD_CLOEXEC);
  rc = fd < 0 ? -errno : seccomp_export_bpf(ctx, fd);
  seccomp_release(ctx);
  if (rc != 0) {
    if (fd >= 0) ::close(fd);
    return make_error(Errc::kInternal, std::string("seccomp export: ") + std::strerror(-rc));
  }
  off_t size = ::lseek(fd, 0, SEEK_END);
  std::vector<sock_filter> prog(static_cast<size_t>(size) / sizeof(sock_filter));
  ssize_t n = ::pread(fd, prog.data(), prog.size() * sizeof(sock_filter), 0);
  ::close(fd);
  if (n != static_cast<ssize_t>(prog.size() * sizeof(sock_filter)) || prog.empty()) {
    return make_error(Errc::kInternal, "seccomp export: short read");
  }
  return prog;
}

std::string install_seccomp(const std::vector<sock_filter>& prog) {
  sock_fprog fprog{static_cast<unsigned short>(prog.size()), const_cast<sock_filter*>(prog.data())};
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) != 0) return std::strerror(errno);
  return {};
}

}  // namespace lambent::sandbox
