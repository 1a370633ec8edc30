// What text may go on a printed slip, and so into any field that is printed:
// one rule for the slip renderer, the CCCD QR parser and the node's validators,
// so that what a clerk or the kiosk saves can always be printed and reads on
// paper as it reads on screen.
//
// Thread safety: pure functions.
#pragma once

#include <string_view>

namespace wardsync::hardware {

enum class TextFault {
  kNone,
  kInvalidUtf8,  // not strict UTF-8
  kControl,      // C0 controls (newline only where allowed), DEL, C1 controls
  kInvisible,    // bidi controls, zero-width and filler characters, variation
                 // selectors, tags, BOM, soft hyphen: a name could print reversed
                 // or blank, or look like another one
};

TextFault text_fault(std::string_view utf8, bool allow_newline = false);

// Empty, or nothing but spaces of any kind (ASCII, no-break, the U+2000 block,
// ideographic): no name, note or reason.
bool is_blank_text(std::string_view utf8);

// At least one letter: an ASCII letter, or a code point from U+00C0 on that is
// neither a space, a combining mark nor a character text_fault refuses. (A name
// needs one; Vietnamese letters are all in Latin ranges from U+00C0.)
bool has_letter(std::string_view utf8);

}  // namespace wardsync::hardware
