#include "wardsync/hardware/text.hpp"

#include <cstdint>

#include "utf8_internal.hpp"

namespace wardsync::hardware {

namespace {

// The code point at `i` of valid UTF-8, moving `i` past it.
std::uint32_t next_code_point(std::string_view s, std::size_t& i) {
  const auto c = static_cast<std::uint8_t>(s[i]);
  std::size_t extra = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
  std::uint32_t cp = extra == 0 ? c : extra == 1 ? (c & 0x1Fu) : extra == 2 ? (c & 0x0Fu) : (c & 0x07u);
  for (std::size_t k = 1; k <= extra; ++k) cp = (cp << 6) | (static_cast<std::uint8_t>(s[i + k]) & 0x3Fu);
  i += extra + 1;
  return cp;
}

bool is_space(std::uint32_t cp) {
  return cp == ' ' || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

bool is_invisible(std::uint32_t cp) {
  return cp == 0xAD || cp == 0x034F || cp == 0x061C || cp == 0x115F || cp == 0x1160 || cp == 0x180E ||
         (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2060 && cp <= 0x206F) ||
         cp == 0x3164 || (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF || cp == 0xFFA0 ||
         (cp >= 0xFFF9 && cp <= 0xFFFB) || (cp >= 0xE0000 && cp <= 0xE01EF);  // tags, variation selectors
}

bool is_combining(std::uint32_t cp) {
  return (cp >= 0x0300 && cp <= 0x036F) || (cp >= 0x1AB0 && cp <= 0x1AFF) || (cp >= 0x1DC0 && cp <= 0x1DFF) ||
         (cp >= 0x20D0 && cp <= 0x20FF) || (cp >= 0xFE20 && cp <= 0xFE2F);
}

}  // namespace

TextFault text_fault(std::string_view utf8, bool allow_newline) {
  if (!internal::is_valid_utf8(utf8)) return TextFault::kInvalidUtf8;
  for (std::size_t i = 0; i < utf8.size();) {
    std::uint32_t cp = next_code_point(utf8, i);
    if ((cp < 0x20 && !(allow_newline && cp == '\n')) || (cp >= 0x7F && cp <= 0x9F)) return TextFault::kControl;
    if (is_invisible(cp)) return TextFault::kInvisible;
  }
  return TextFault::kNone;
}

bool is_blank_text(std::string_view utf8) {
  if (!internal::is_valid_utf8(utf8)) return false;
  for (std::size_t i = 0; i < utf8.size();)
    if (!is_space(next_code_point(utf8, i))) return false;
  return true;
}

bool has_letter(std::string_view utf8) {
  if (!internal::is_valid_utf8(utf8)) return false;
  for (std::size_t i = 0; i < utf8.size();) {
    std::uint32_t cp = next_code_point(utf8, i);
    if ((cp >= 'A' && cp <= 'Z') || (cp >= 'a' && cp <= 'z')) return true;
    if (cp >= 0xC0 && cp != 0xD7 && cp != 0xF7 && !is_space(cp) && !is_combining(cp) && !is_invisible(cp) &&
        !(cp >= 0x2000 && cp <= 0x2BFF) && !(cp >= 0x3000 && cp <= 0x303F) && !(cp >= 0xFE00 && cp <= 0xFE0F) &&
        !(cp >= 0xFFF0))
      return true;
  }
  return false;
}

}  // namespace wardsync::hardware
