#include <cstdint>
#include <string>

#include "wardsync/sync/text.hpp"

namespace wardsync {

namespace {

// Vietnamese letters with their tone and vowel marks, by base letter. đ/Đ is a
// letter of its own in Unicode (no combining mark), so it needs folding by hand.
struct Fold {
  const char* letters;
  char base;
};
constexpr Fold kFolds[] = {
    {"àáảãạăằắẳẵặâầấẩẫậÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬ", 'a'},
    {"èéẻẽẹêềếểễệÈÉẺẼẸÊỀẾỂỄỆ", 'e'},
    {"ìíỉĩịÌÍỈĨỊ", 'i'},
    {"òóỏõọôồốổỗộơờớởỡợÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢ", 'o'},
    {"ùúủũụưừứửữựÙÚỦŨỤƯỪỨỬỮỰ", 'u'},
    {"ỳýỷỹỵỲÝỶỸỴ", 'y'},
    {"đĐ", 'd'},
};

bool decode(const std::string& s, std::size_t& i, std::uint32_t& cp) {
  auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  std::uint8_t c = byte(i);
  int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (len == 0 || i + static_cast<std::size_t>(len) > s.size()) return false;
  cp = len == 1 ? c : len == 2 ? (c & 0x1f) : len == 3 ? (c & 0x0f) : (c & 0x07);
  for (int k = 1; k < len; ++k) {
    std::uint8_t b = byte(i + static_cast<std::size_t>(k));
    if ((b >> 6) != 2) return false;
    cp = (cp << 6) | (b & 0x3f);
  }
  i += static_cast<std::size_t>(len);
  return true;
}

char fold_code_point(std::uint32_t cp) {
  for (const auto& f : kFolds) {
    std::string letters = f.letters;
    std::size_t i = 0;
    std::uint32_t other = 0;
    while (i < letters.size() && decode(letters, i, other)) {
      if (other == cp) return f.base;
    }
  }
  return 0;
}

void encode(std::uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
  }
}

}  // namespace

std::string fold_for_search(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    std::uint32_t cp = 0;
    if (!decode(text, i, cp)) {
      ++i;  // invalid UTF-8 byte: dropped
      continue;
    }
    if (cp >= 0x300 && cp <= 0x36f) continue;  // combining marks (decomposed input)
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
      continue;
    }
    char base = fold_code_point(cp);
    if (base != 0) {
      out.push_back(base);
    } else {
      encode(cp, out);
    }
  }
  return out;
}

std::vector<std::string> search_words(const std::string& folded) {
  std::vector<std::string> words;
  std::string word;
  for (char c : folded) {
    const bool keep =
        (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || static_cast<unsigned char>(c) >= 0x80;
    if (keep) {
      word.push_back(c);
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

bool starts_with_digit(const std::string& word) { return !word.empty() && word[0] >= '0' && word[0] <= '9'; }

}  // namespace wardsync
