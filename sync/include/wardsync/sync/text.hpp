// Text folding for search: "Nguyễn Văn Đặng" → "nguyen van dang". Vietnamese
// tone and vowel marks are removed, đ/Đ (a letter of its own, not a base letter
// plus a mark) becomes d, ASCII is lowercased, combining marks are dropped.
// Thread safety: a pure function.
#pragma once

#include <string>

namespace wardsync {

std::string fold_for_search(const std::string& text);

}  // namespace wardsync
