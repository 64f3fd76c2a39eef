#include "creni/ingest/own_input_files.hpp"

namespace creni::ingest {

void OwnInputFiles::forget_expired(Clock::time_point now) {
  if (now >= next_expiry_) {
    for (auto it = files_.begin(); it != files_.end();) {
      it = now - it->second >= kKeep ? files_.erase(it) : std::next(it);
    }
    for (auto it = links_.begin(); it != links_.end();) {
      it = now - it->second.since >= kKeep ? links_.erase(it) : std::next(it);
    }
    next_expiry_ = now + kKeep / 2;
  }
  if (files_.size() + links_.size() >= kMaxRemembered) {
    files_.clear();
    links_.clear();
  }
}

void OwnInputFiles::add(const std::filesystem::path& file, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  forget_expired(now);
  files_.insert_or_assign(file.string(), now);
}

void OwnInputFiles::expect(const std::filesystem::path& mirror_root, const std::string& sop_instance_uid,
                           FileIdentity spool, Clock::time_point now) {
  const std::lock_guard lock(mutex_);
  forget_expired(now);
  ExpectedLink link;
  link.mirror_root = mirror_root;
  link.sop_instance_uid = sop_instance_uid;
  link.since = now;
  links_.insert_or_assign(InodeKey{spool.device, spool.inode}, std::move(link));
}

bool OwnInputFiles::claim(const std::string& file, FileIdentity identity) {
  const std::lock_guard lock(mutex_);
  if (files_.erase(file) > 0) return true;
  const auto link = links_.find(InodeKey{identity.device, identity.inode});
  if (link == links_.end()) return false;
  // The inode alone could be a reused one once the spool file is gone: the name and the place must match too.
  const std::filesystem::path path(file);
  if (path.filename() != link->second.sop_instance_uid || path.parent_path().parent_path() != link->second.mirror_root) {
    return false;
  }
  links_.erase(link);
  return true;
}

std::size_t OwnInputFiles::size() const {
  const std::lock_guard lock(mutex_);
  return files_.size() + links_.size();
}

}  // namespace creni::ingest
