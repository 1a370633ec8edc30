// Folding for search without diacritics: "nguyen van an" finds "Nguyễn Văn An".
export function fold(text) {
  return String(text ?? '')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/đ/g, 'd')
    .replace(/Đ/g, 'D')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

// True when every word of the query occurs in the folded text.
export function matches(text, query) {
  const hay = fold(text);
  return fold(query).split(' ').filter(Boolean).every((w) => hay.includes(w));
}
