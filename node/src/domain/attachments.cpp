#include "domain/attachments.hpp"

#include "domain/dossiers.hpp"
#include "schema.hpp"
#include "wardsync/sync/blob_store.hpp"

namespace wardsync::node {

namespace {

constexpr std::size_t kNameBytesMax = 200;

bool allowed_type(const std::string& t) {
  return t == "application/pdf" || t == "image/jpeg" || t == "image/png" || t == "image/tiff";
}

// The bytes begin as files of `type` do: an HTML page sent as image/png would be
// served back under that type to every clerk who opens it.
bool looks_like(const std::string& type, std::string_view bytes) {
  auto starts = [&](std::string_view magic) { return bytes.substr(0, magic.size()) == magic; };
  if (type == "application/pdf") return starts("%PDF-");
  if (type == "image/png") return starts("\x89PNG\r\n\x1a\n");
  if (type == "image/jpeg") return starts("\xFF\xD8\xFF");
  if (type == "image/tiff") return starts(std::string_view("II*\0", 4)) || starts(std::string_view("MM\0*", 4));
  return false;
}

}  // namespace

Outcome<AttachmentView> add_attachment(NodeContext& ctx, const Actor& actor, const std::string& dossier_id,
                                       const std::string& name, const std::string& content_type,
                                       const std::string& bytes) {
  if (actor.role == Role::kItAdmin) return forbidden();
  std::vector<FieldError> errors;
  if (name.empty() || name.size() > kNameBytesMax || name.find_first_of("/\\") != std::string::npos)
    errors.push_back({"name", "format", "Tên tệp từ 1 đến 200 byte, không có / hoặc \\.",
                      "File name: 1 to 200 bytes, no '/' or '\\'."});
  else if (auto e = printable_error("name", name, "Tên tệp", "File name"))
    errors.push_back(std::move(*e));
  if (!allowed_type(content_type))
    errors.push_back({"content_type", "enum", "Chỉ nhận PDF, JPEG, PNG hoặc TIFF.",
                      "Only PDF, JPEG, PNG or TIFF are accepted."});
  if (bytes.empty())
    errors.push_back({"body", "required", "Tệp rỗng.", "The file is empty."});
  else if (allowed_type(content_type) && !looks_like(content_type, bytes))
    errors.push_back({"body", "format", "Nội dung tệp không phải " + content_type + ".",
                      "The file's content is not " + content_type + "."});
  // As scanned pages are: not another office's pinned copy, at most 100 pages.
  Outcome<Record> dossier = dossier_for_pages(ctx, dossier_id, 1);
  if (!dossier.ok()) return dossier.error();
  if (!errors.empty()) return invalid(std::move(errors));
  const RecordId rid = dossier.value().id;
  BlobStore blobs(ctx.config.path_of(ctx.config.blob_dir));
  auto hash = blobs.put(bytes);  // durable before the record that names it
  if (!hash.is_ok()) {
    ctx.log.error("attachments", "cannot store a blob: " + hash.status().to_string());
    return internal_error();
  }
  std::string hex = to_hex(hash.value());
  Transaction txn(actor.username, record_scope(ctx, dossier.value()));  // the dossier's office
  // Listed on the dossier too, where the clerks' app shows its pages.
  txn.update(kDossiers, rid)
      .add("attachments", encode_attachment(Attachment{hex, content_type, bytes.size(), name}))
      .append("history", "attach\t1");
  txn.create(kAttachments)
      .set_once("dossier", dossier_id)
      .set_once("blob", hex)
      .set_once("size", std::to_string(bytes.size()))
      .set_once("name", name)
      .set_once("content_type", content_type)
      .set_once("added_by", actor.username)
      .set_once("added_at", iso_local(now_seconds(ctx)));
  auto done = commit_durably(ctx, std::move(txn));
  if (!done.ok()) return done.error();
  // records: the dossier, then the attachment record (in the transaction's order).
  AttachmentView v{done.value().records.back().hex(), dossier_id, hex, bytes.size(), name, content_type, true};
  ctx.log.info("attachments", "dossier " + dossier_id + " blob " + hex.substr(0, 16) + " " + std::to_string(bytes.size()) +
                                  " bytes by " + actor.username);
  return v;
}

Outcome<std::string> read_attachment(NodeContext& ctx, const std::string& hash_hex, std::string& content_type) {
  Hash h{};
  if (!from_hex(hash_hex, h)) return not_found("tệp", "Attachment");
  auto reader = ctx.readers.acquire();
  if (!reader) return internal_error();
  auto ids = reader->find(kAttachments, "blob", hash_hex, 1);
  if (ids.empty()) return not_found("tệp", "Attachment");
  auto rec = reader->get(kAttachments, ids.front());
  if (!rec) return not_found("tệp", "Attachment");
  content_type = rec->text("content_type");
  BlobStore blobs(ctx.config.path_of(ctx.config.blob_dir));
  auto size = blobs.size(h);
  if (!size)
    return unavailable("Tệp đang được đồng bộ về, vui lòng thử lại sau.",
                       "The file is still being fetched from a peer; try again later.");
  auto bytes = blobs.read(h, 0, static_cast<std::size_t>(*size));
  if (!bytes.is_ok()) return internal_error();
  return std::move(bytes).value();
}

}  // namespace wardsync::node
