// Disk-backed /tmp for execution environments: on AWS, /tmp is ephemeral storage of its own
// size (EphemeralStorage, 512–10,240 MB), not memory. A tmpfs would charge every byte of /tmp
// to the function's memory cgroup (a 128 MB function could not hold 200 MB in a 512 MB /tmp).
// So each environment gets an ext4 file system of exactly its size on a loop device, backed by
// a sparse image under the data directory: its pages are page cache (reclaimable, written back
// to disk), the file system's size is the quota, and it is wiped with the environment (the
// image is unlinked once attached; the loop device detaches itself when the environment's mount
// namespace goes away).
//
// The spawner makes one template image per size with mkfs.ext4 (e2fsprogs, always installed on
// Debian) the first time that size is asked for, and each environment's image is a sparse copy
// of it (only the few MB of metadata are written): made ahead with the blank sandbox for the
// default 512 MB, on the cold path for other sizes. Decision record 0009.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "base/error.h"

namespace lambent::sandbox {

class ScratchDisks final {
 public:
  // Checks that loop devices and mkfs.ext4 are there and makes (or empties) `dir`, which holds
  // the templates and the images not yet attached. An error when the host has no loop
  // devices: environments then get a tmpfs /tmp (charged to their memory), as before.
  static Result<ScratchDisks> open(const std::string& dir);

  // A fresh image of `mb` MiB with an empty ext4 file system; the caller attaches it (in the
  // sandbox, mount_scratch) or removes it.
  Result<std::string> make_image(int64_t mb);

 private:
  ScratchDisks(std::string dir, std::string mkfs) : dir_(std::move(dir)), mkfs_(std::move(mkfs)) {}
  Result<std::string> template_for(int64_t mb);

  std::string dir_;
  std::string mkfs_;
  std::map<int64_t, std::string> templates_;
  uint64_t next_ = 0;
};

// In the sandbox, before it drops privileges: attaches `image` to a free loop device (detached
// automatically once nothing uses it), unlinks the image, and mounts the file system at `target`
// (nosuid, nodev), mode 1777 and empty. Returns "step: reason" on failure, "" on success.
std::string mount_scratch(const std::string& image, const std::string& target);

}  // namespace lambent::sandbox
