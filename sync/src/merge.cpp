#include <algorithm>
#include <cstring>
#include <string_view>
#include <tuple>
#include <vector>

#include "change_internal.hpp"
#include "merge_internal.hpp"

namespace wardsync::merge {

namespace {

// (hlc, origin) order: the total order of writes. Ties between origins are
// broken by the origin's bytes, never by the node that relayed the change.
int cmp_id(std::uint64_t ha, const std::string& oa, std::uint64_t hb, const std::string& ob) {
  if (ha != hb) return ha < hb ? -1 : 1;
  int c = oa.compare(ob);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}
int cmp_id(const pb::Version& a, const pb::Version& b) {
  return cmp_id(a.hlc(), a.origin(), b.hlc(), b.origin());
}
// Full order on versions, so that equal ids with different contents (a forged
// duplicate, several ops on one field in one change) still resolve the same everywhere.
bool version_less(const pb::Version& a, const pb::Version& b) {
  int c = cmp_id(a, b);
  if (c != 0) return c < 0;
  return a.value() < b.value();
}
bool rank_less(const pb::Version& a, const pb::Version& b) {
  auto ka = std::make_tuple(a.rank_cycle(), a.rank_stage());
  auto kb = std::make_tuple(b.rank_cycle(), b.rank_stage());
  if (ka != kb) return ka < kb;
  if (cmp_id(a, b) != 0 || a.value() != b.value()) return version_less(a, b);
  return a.rank_terminal() < b.rank_terminal();  // a total order, even for odd writers
}

// Sorts a repeated message field by moving pointers, never messages: moving
// messages between a temporary and an arena would deep-copy them.
template <typename T, typename Less>
void sort_messages(google::protobuf::RepeatedPtrField<T>* items, Less less) {
  std::sort(items->pointer_begin(), items->pointer_end(), [&](const T* a, const T* b) { return less(*a, *b); });
}

template <typename T, typename Less>
void sort_unique(google::protobuf::RepeatedPtrField<T>* items, Less less) {
  sort_messages(items, less);
  auto eq = [&](const T& a, const T& b) { return !less(a, b) && !less(b, a); };
  auto end = std::unique(items->begin(), items->end(), eq);
  items->erase(end, items->end());
}

void sort_unique_bytes(google::protobuf::RepeatedPtrField<std::string>* items) {
  std::sort(items->begin(), items->end());
  items->erase(std::unique(items->begin(), items->end()), items->end());
}

void normalize_lww(pb::FieldState& f) {
  sort_unique(f.mutable_versions(), version_less);
  auto* vs = f.mutable_versions();
  auto dead = [&](const pb::Version& v) {
    return cmp_id(v.hlc(), v.origin(), f.max_base_hlc(), f.max_base_origin()) <= 0;
  };
  vs->erase(std::remove_if(vs->begin(), vs->end(), dead), vs->end());
}

void normalize_once(pb::FieldState& f) {
  // For each distinct value only its earliest write matters.
  auto* vs = f.mutable_versions();
  sort_messages(vs, [](const pb::Version& a, const pb::Version& b) {
    if (a.value() != b.value()) return a.value() < b.value();
    return cmp_id(a, b) < 0;
  });
  vs->erase(std::unique(vs->begin(), vs->end(),
                        [](const pb::Version& a, const pb::Version& b) { return a.value() == b.value(); }),
            vs->end());
  sort_messages(vs, version_less);
}

void normalize_rank(pb::FieldState& f) {
  auto* vs = f.mutable_versions();
  if (vs->size() < 2) return;
  sort_messages(vs, rank_less);
  const pb::Version& winner = vs->Get(vs->size() - 1);
  // Keep the winner and, of its cycle, the latest version of each terminal stage.
  std::vector<const pb::Version*> kept;
  for (int i = vs->size() - 1; i >= 0; --i) {
    const pb::Version& v = vs->Get(i);
    bool is_winner = i == vs->size() - 1;
    if (!is_winner && !(v.rank_terminal() && v.rank_cycle() == winner.rank_cycle())) continue;
    bool dominated = std::any_of(kept.begin(), kept.end(), [&](const pb::Version* k) {
      return k->rank_stage() == v.rank_stage() && k->rank_cycle() == v.rank_cycle() && k->value() == v.value() &&
             k->rank_terminal() == v.rank_terminal();
    });
    if (!dominated) kept.push_back(&v);
  }
  // The rest go by moving pointers (a copy into a temporary and back would
  // deep-copy every kept version off and onto the arena); order is kept.
  std::stable_partition(vs->pointer_begin(), vs->pointer_end(), [&](const pb::Version* v) {
    return std::find(kept.begin(), kept.end(), v) != kept.end();
  });
  vs->DeleteSubrange(static_cast<int>(kept.size()), vs->size() - static_cast<int>(kept.size()));
}

void normalize_set(pb::FieldState& f) {
  sort_unique_bytes(f.mutable_removed_tags());
  const auto& removed = f.removed_tags();
  auto* elems = f.mutable_elements();
  sort_messages(elems,
            [](const pb::SetElement& a, const pb::SetElement& b) { return a.value() < b.value(); });
  // Merge elements with the same value (their tags unite).
  google::protobuf::RepeatedPtrField<pb::SetElement> out;
  for (auto& e : *elems) {
    if (!out.empty() && out.rbegin()->value() == e.value()) {
      for (auto& t : e.tags()) out.rbegin()->add_tags(t);
    } else {
      *out.Add() = e;
    }
  }
  for (auto& e : out) {
    auto* tags = e.mutable_tags();
    sort_unique_bytes(tags);
    tags->erase(std::remove_if(tags->begin(), tags->end(),
                               [&](const std::string& t) {
                                 return std::binary_search(removed.begin(), removed.end(), t);
                               }),
                tags->end());
  }
  out.erase(std::remove_if(out.begin(), out.end(), [](const pb::SetElement& e) { return e.tags().empty(); }),
            out.end());
  elems->Swap(&out);
}

void normalize_log(pb::FieldState& f) {
  sort_unique(f.mutable_entries(), [](const pb::LogEntry& a, const pb::LogEntry& b) {
    return std::make_tuple(a.hlc(), std::cref(a.origin()), a.op_index(), std::cref(a.value()),
                           std::cref(a.author())) <
           std::make_tuple(b.hlc(), std::cref(b.origin()), b.op_index(), std::cref(b.value()),
                           std::cref(b.author()));
  });
}

void normalize_counter(pb::FieldState& f) {
  auto* shares = f.mutable_shares();
  sort_messages(shares,
            [](const pb::CounterShare& a, const pb::CounterShare& b) { return a.origin() < b.origin(); });
  google::protobuf::RepeatedPtrField<pb::CounterShare> out;
  for (const auto& s : *shares) {
    if (!out.empty() && out.rbegin()->origin() == s.origin()) {
      auto* last = out.Mutable(out.size() - 1);
      last->set_p(std::max(last->p(), s.p()));
      last->set_n(std::max(last->n(), s.n()));
    } else {
      *out.Add() = s;
    }
  }
  shares->Swap(&out);
}

void normalize(pb::FieldState& f) {
  switch (f.type()) {
    case pb::LWW: normalize_lww(f); break;
    case pb::ONCE: normalize_once(f); break;
    case pb::RANK: normalize_rank(f); break;
    case pb::SET: normalize_set(f); break;
    case pb::LOG: normalize_log(f); break;
    case pb::COUNTER: normalize_counter(f); break;
    default: break;
  }
}

void join_field(pb::FieldState& into, const pb::FieldState& d) {
  if (d.type() != into.type()) {
    // Same name, different merge types: only a buggy or hostile writer does this.
    // Keep the state of the larger type id, so the outcome is order-independent.
    if (d.type() > into.type()) into = d;
    return;
  }
  for (const auto& v : d.versions()) *into.add_versions() = v;
  if (cmp_id(d.max_base_hlc(), d.max_base_origin(), into.max_base_hlc(), into.max_base_origin()) > 0) {
    into.set_max_base_hlc(d.max_base_hlc());
    into.set_max_base_origin(d.max_base_origin());
  }
  for (const auto& e : d.elements()) *into.add_elements() = e;
  for (const auto& t : d.removed_tags()) into.add_removed_tags(t);
  for (const auto& e : d.entries()) *into.add_entries() = e;
  for (const auto& s : d.shares()) *into.add_shares() = s;
  normalize(into);
}

// Fills `v`, built in place on its field's arena (a temporary copied in was
// most of the cost of a delta).
void fill_version(pb::Version& v, const pb::ChangeBody& body, const pb::FieldOp& op) {
  v.set_hlc(body.hlc());
  v.set_origin(body.origin());
  v.set_value(op.value());
  if (op.type() == pb::RANK) {
    v.set_rank_cycle(op.rank_cycle());
    v.set_rank_stage(op.rank_stage());
    v.set_rank_terminal(op.rank_terminal());
  }
}

}  // namespace

std::string make_tag(const Hash& body_hash, std::size_t op_index) {
  std::string tag(reinterpret_cast<const char*>(body_hash.data()), 16);
  tag.push_back(static_cast<char>((op_index >> 8) & 0xff));
  tag.push_back(static_cast<char>(op_index & 0xff));
  return tag;
}

const pb::FieldState* find_field(const pb::RecordState& state, const std::string& name) {
  auto it = std::lower_bound(state.fields().begin(), state.fields().end(), name,
                             [](const pb::FieldState& f, const std::string& n) { return f.name() < n; });
  if (it == state.fields().end() || it->name() != name) return nullptr;
  return &*it;
}

namespace {

// The state one op contributes to its field; false for an op of unknown type.
bool fill_field(pb::FieldState& f, const pb::ChangeBody& body, const pb::FieldOp& op, int i,
                const Hash& body_hash) {
  f.set_name(op.field());
  f.set_type(op.type());
  switch (op.type()) {
    case pb::LWW: {
      fill_version(*f.add_versions(), body, op);
      // A base at or above the write itself cannot have been seen by it: ignore
      // it, or a bad writer could erase its own value from the conflict list.
      if (cmp_id(op.base_hlc(), op.base_origin(), body.hlc(), body.origin()) < 0) {
        f.set_max_base_hlc(op.base_hlc());
        f.set_max_base_origin(op.base_origin());
      }
      break;
    }
    case pb::ONCE:
    case pb::RANK: fill_version(*f.add_versions(), body, op); break;
    case pb::SET:
      if (op.kind() == pb::OP_ADD) {
        pb::SetElement* e = f.add_elements();
        e->set_value(op.value());
        e->add_tags(make_tag(body_hash, static_cast<std::size_t>(i)));
      } else {
        for (const auto& t : op.removed_tags()) f.add_removed_tags(t);
      }
      break;
    case pb::LOG: {
      pb::LogEntry* e = f.add_entries();
      e->set_hlc(body.hlc());
      e->set_origin(body.origin());
      e->set_op_index(static_cast<std::uint32_t>(i));
      e->set_value(op.value());
      e->set_author(body.author());
      break;
    }
    case pb::COUNTER: {
      pb::CounterShare* c = f.add_shares();
      c->set_origin(body.origin());
      c->set_p(op.counter_p());
      c->set_n(op.counter_n());
      break;
    }
    default: return false;
  }
  normalize(f);
  return true;
}

}  // namespace

void build_delta(const pb::ChangeBody& body, const Hash& body_hash, pb::RecordState& d) {
  d.set_created_hlc(body.hlc());
  if (body.tombstone()) {
    d.set_tombstone_hlc(body.hlc());
    d.set_tombstone_origin(body.origin());
    d.set_tombstone_author(body.author());
  }
  // Fields are built in op order, then sorted by name; an op on a field already
  // built in this change is joined into it (several set adds, log appends).
  auto* fields = d.mutable_fields();
  for (int i = 0; i < body.ops_size(); ++i) {
    const pb::FieldOp& op = body.ops(i);
    auto same = std::find_if(fields->begin(), fields->end(),
                             [&](const pb::FieldState& g) { return g.name() == op.field(); });
    if (same == fields->end()) {
      if (!fill_field(*fields->Add(), body, op, i, body_hash)) fields->RemoveLast();
      continue;
    }
    pb::FieldState* more = google::protobuf::Arena::CreateMessage<pb::FieldState>(d.GetArena());
    if (fill_field(*more, body, op, i, body_hash)) join_field(*same, *more);
    if (d.GetArena() == nullptr) delete more;
  }
  sort_messages(fields,
            [](const pb::FieldState& a, const pb::FieldState& b) { return a.name() < b.name(); });
}

pb::RecordState delta_of(const pb::ChangeBody& body, const Hash& body_hash) {
  pb::RecordState d;
  build_delta(body, body_hash, d);
  return d;
}

void join(pb::RecordState& state, pb::RecordState&& delta) {
  // A record's first change: its state is the delta (already canonical).
  if (state.created_hlc() == 0 && state.fields_size() == 0 && state.tombstone_hlc() == 0) {
    state.Swap(&delta);
    return;
  }
  join(state, static_cast<const pb::RecordState&>(delta));
}

void join(pb::RecordState& state, const pb::RecordState& delta) {
  if (delta.created_hlc() != 0 && (state.created_hlc() == 0 || delta.created_hlc() < state.created_hlc())) {
    state.set_created_hlc(delta.created_hlc());
  }
  if (delta.tombstone_hlc() != 0 &&
      (state.tombstone_hlc() == 0 ||
       cmp_id(delta.tombstone_hlc(), delta.tombstone_origin(), state.tombstone_hlc(),
              state.tombstone_origin()) < 0 ||
       (delta.tombstone_hlc() == state.tombstone_hlc() &&
        delta.tombstone_origin() == state.tombstone_origin() &&
        delta.tombstone_author() < state.tombstone_author()))) {
    state.set_tombstone_hlc(delta.tombstone_hlc());
    state.set_tombstone_origin(delta.tombstone_origin());
    state.set_tombstone_author(delta.tombstone_author());
  }
  auto* fields = state.mutable_fields();
  for (const auto& df : delta.fields()) {
    auto it = std::lower_bound(fields->begin(), fields->end(), df.name(),
                               [](const pb::FieldState& f, const std::string& n) { return f.name() < n; });
    if (it != fields->end() && it->name() == df.name()) {
      join_field(*it, df);
    } else {
      pb::FieldState f = df;
      normalize(f);
      int pos = static_cast<int>(it - fields->begin());
      fields->Add(std::move(f));
      for (int i = fields->size() - 1; i > pos; --i) fields->SwapElements(i, i - 1);
    }
  }
}

const pb::Version* winner(const pb::FieldState& field) {
  if (field.versions().empty()) return nullptr;
  return field.type() == pb::ONCE ? &field.versions(0) : &field.versions(field.versions_size() - 1);
}

namespace {

void copy_origin(const std::string& from, PublicKey& to) {
  if (from.size() == to.size()) std::memcpy(to.data(), from.data(), to.size());
}

bool rank_conflict(const pb::Version& v, const pb::Version& winner) {
  return winner.rank_terminal() && v.rank_terminal() && v.rank_cycle() == winner.rank_cycle() &&
         (v.value() != winner.value() || v.rank_stage() != winner.rank_stage());
}

}  // namespace

bool has_conflicts(const pb::RecordState& state) {
  for (const auto& f : state.fields()) {
    switch (f.type()) {
      case pb::LWW:
      case pb::ONCE:
        if (f.versions_size() > 1) return true;
        break;
      case pb::RANK:
        for (int i = 0; i + 1 < f.versions_size(); ++i) {
          if (rank_conflict(f.versions(i), f.versions(f.versions_size() - 1))) return true;
        }
        break;
      default: break;
    }
  }
  return false;
}

void to_view(const pb::RecordState& state, Record& out) {
  out.created = state.created_hlc();
  out.deleted = state.tombstone_hlc() != 0;
  out.fields.clear();
  for (const auto& f : state.fields()) {
    FieldValue v;
    if (!from_pb(f.type(), v.type)) continue;
    auto conflict_of = [](const pb::Version& ver) {
      ConflictItem c;
      c.hlc = ver.hlc();
      copy_origin(ver.origin(), c.origin);
      c.value = ver.value();
      return c;
    };
    switch (f.type()) {
      case pb::LWW:
      case pb::RANK:
      case pb::ONCE: {
        const pb::Version* shown = winner(f);
        if (shown == nullptr) break;
        const pb::Version& w = *shown;
        v.value = w.value();
        v.hlc = w.hlc();
        copy_origin(w.origin(), v.origin);
        if (f.type() == pb::RANK) v.rank = Rank{w.rank_cycle(), w.rank_stage(), w.rank_terminal(), w.value()};
        for (const auto& other : f.versions()) {
          if (&other == &w) continue;
          if (f.type() == pb::RANK && !rank_conflict(other, w)) continue;
          v.conflicts.push_back(conflict_of(other));
        }
        break;
      }
      case pb::SET:
        for (const auto& e : f.elements()) v.elements.push_back(e.value());
        break;
      case pb::LOG:
        for (const auto& e : f.entries()) {
          LogItem item;
          item.hlc = e.hlc();
          copy_origin(e.origin(), item.origin);
          item.author = e.author();
          item.value = e.value();
          v.entries.push_back(std::move(item));
        }
        break;
      case pb::COUNTER:
        for (const auto& s : f.shares()) v.count += s.p() - s.n();
        break;
      default: break;
    }
    out.fields.emplace_hint(out.fields.end(), f.name(), std::move(v));  // fields come sorted by name
  }
}

// ---------------------------------------------------------------------------
// Stored form (serialize_state, parse_state)

namespace {

// Stands for the common origin in the stored form. Origins are 32 bytes, or
// empty for a base a writer did not name (change.cpp checks both), so a
// one-byte value is never a real one; a state holding it anyway is stored whole.
constexpr std::string_view kCommonMark{"\x01", 1};

// Calls f(origin, set) on every origin in `state`; set(bytes) replaces that one.
// Origins are read through the const accessors: a mutable accessor would give
// each unset one a string of its own (most are unset: bases, tombstones), which
// cost more than the whole serialization.
template <typename F>
void for_each_origin(pb::RecordState& state, F&& f) {
  auto setter = [](auto* msg, void (*set)(decltype(msg), std::string_view)) {
    return [msg, set](std::string_view bytes) { set(msg, bytes); };
  };
  for (auto& field : *state.mutable_fields()) {
    for (auto& v : *field.mutable_versions()) {
      f(v.origin(), setter(&v, [](pb::Version* m, std::string_view b) { m->set_origin(b.data(), b.size()); }));
      f(v.base_origin(),
        setter(&v, [](pb::Version* m, std::string_view b) { m->set_base_origin(b.data(), b.size()); }));
    }
    f(field.max_base_origin(),
      setter(&field, [](pb::FieldState* m, std::string_view b) { m->set_max_base_origin(b.data(), b.size()); }));
    for (auto& e : *field.mutable_entries())
      f(e.origin(), setter(&e, [](pb::LogEntry* m, std::string_view b) { m->set_origin(b.data(), b.size()); }));
    for (auto& c : *field.mutable_shares())
      f(c.origin(), setter(&c, [](pb::CounterShare* m, std::string_view b) { m->set_origin(b.data(), b.size()); }));
  }
  f(state.tombstone_origin(),
    setter(&state, [](pb::RecordState* m, std::string_view b) { m->set_tombstone_origin(b.data(), b.size()); }));
}

// Sets every origin of `state` that equals `from` to `to`.
void replace_origins(pb::RecordState& state, std::string_view from, std::string_view to) {
  for_each_origin(state, [&](const std::string& o, auto set) {
    if (o == from) set(to);
  });
}

}  // namespace

void serialize_state(pb::RecordState& state, std::string& out) {
  // The first origin in field order: the same on every replica of this state.
  const std::string* common = nullptr;
  bool marked = false;
  for_each_origin(state, [&](const std::string& o, auto) {
    if (common == nullptr && !o.empty()) common = &o;
    marked = marked || o == kCommonMark;
  });
  if (common == nullptr || marked) {
    state.SerializeToString(&out);
    return;
  }
  const std::string origin = *common;  // `common` points into the state, about to change
  replace_origins(state, origin, kCommonMark);
  state.set_common_origin(origin);
  state.SerializeToString(&out);
  state.clear_common_origin();
  replace_origins(state, kCommonMark, origin);
}

bool parse_state(std::string_view blob, pb::RecordState& state) {
  if (!state.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) return false;
  if (state.common_origin().empty()) return true;  // stored whole (before schema 8, say)
  std::string common = std::move(*state.mutable_common_origin());
  state.clear_common_origin();
  replace_origins(state, kCommonMark, common);
  return true;
}

}  // namespace wardsync::merge
