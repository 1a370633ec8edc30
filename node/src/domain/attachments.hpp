// Attachments (hồ sơ giấy tờ scan): a scan or PDF of a dossier's paper. The bytes
// go into the blob store under their BLAKE2b hash; a record of the `attachment`
// collection names the dossier, the hash, the size and the file name, and
// replicates like any record. Nodes that receive the record fetch the bytes
// from their peers after the records (docs/replication.md, "Blobs").
//
// Thread safety: as the domain modules (any HTTP thread).
#pragma once

#include <string>

#include "domain/context.hpp"

namespace wardsync::node {

struct AttachmentView {
  std::string id;
  std::string dossier_id;
  std::string hash;  // hex
  std::uint64_t size = 0;
  std::string name;
  std::string content_type;
  bool here = false;  // the bytes are on this node (false: still being fetched)
};

// Stores `bytes` (already bounded by max_upload_bytes) and records the attachment.
Outcome<AttachmentView> add_attachment(NodeContext& ctx, const Actor& actor, const std::string& dossier_id,
                                       const std::string& name, const std::string& content_type,
                                       const std::string& bytes);
// The bytes of an attachment by hash: not_found when unknown, unavailable while
// the record is here but the bytes are still on their way.
Outcome<std::string> read_attachment(NodeContext& ctx, const std::string& hash_hex, std::string& content_type);

}  // namespace wardsync::node
