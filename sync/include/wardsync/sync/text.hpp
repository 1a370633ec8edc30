// Text folding for search: "Nguyễn Văn Đặng" → "nguyen van dang". Vietnamese
// tone and vowel marks are removed, đ/Đ (a letter of its own, not a base letter
// plus a mark) becomes d, ASCII is lowercased, combining marks are dropped.
// Thread safety: a pure function.
#pragma once

#include <string>
#include <vector>

namespace wardsync {

std::string fold_for_search(const std::string& text);

// The words of already folded text, as the search index holds them: runs of
// ASCII letters and digits and of non-ASCII bytes; everything else separates.
std::vector<std::string> search_words(const std::string& folded);
// Whether a word begins with an ASCII digit (a CCCD, a code, a house number).
bool starts_with_digit(const std::string& word);

}  // namespace wardsync
