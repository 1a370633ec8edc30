// The apps' pure helpers, without a browser: CCCD QR and receipt QR parsing,
// diacritics folding for search. Invalid input is tested as hard as valid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCccd, parseReceiptQr } from '../../ui-web/src/common/cccd.js';
import { fold, matches } from '../../ui-web/src/common/fold.js';

test('CCCD QR: a valid card fills name, number, ISO dates', () => {
  const r = parseCccd('079190001234|025123456|Nguyễn Thị Ánh Dương|15031990|Nữ|12 Lê Lợi, Q.1|01072021');
  assert.equal(r.ok, true);
  assert.deepEqual(r.value, { cccd: '079190001234', old_id: '025123456', name: 'Nguyễn Thị Ánh Dương', dob: '1990-03-15',
    gender: 'Nữ', address: '12 Lê Lợi, Q.1', issued: '2021-07-01' });
  assert.equal(parseCccd('079190001234||Trần Văn Ba|01011960|Nam|Huế|').ok, true, 'old ID and issue date may be empty');
});

test('CCCD QR: malformed payloads are refused with a Vietnamese reason', () => {
  for (const bad of ['', 'hello', '07919000123|x|A|15031990|Nam|X|01072021', '079190001234|x||15031990|Nam|X|01072021',
    '079190001234|x|A|31021990|Nam|X|01072021', '079190001234|x|A|1503199|Nam|X|01072021', '079190001234|x|A|15031990|Nam|X|99992021',
    'WS1|26743-260302-10007|ABCD23', '079190001234|x|A|15031990|Nam|X|01072021|extra']) {
    const r = parseCccd(bad);
    assert.equal(r.ok, false, bad);
    assert.match(r.message_vi, /[ảạắếốớủứịĩ]|Chưa|Mã|Số|Ngày/);
  }
});

test('receipt QR: WS1|code|lookup only', () => {
  assert.deepEqual(parseReceiptQr('WS1|26743-260302-10007|ABCD23'), { code: '26743-260302-10007', lookup_code: 'ABCD23' });
  for (const bad of ['', 'WS2|a|b', 'WS1|a', 'WS1||b', 'WS1|a|b|c']) assert.equal(parseReceiptQr(bad), null, bad);
});

test('search without diacritics finds Vietnamese names', () => {
  assert.equal(fold('Nguyễn Văn An'), 'nguyen van an');
  assert.equal(fold('ĐĂNG KÝ KHAI SINH'), 'dang ky khai sinh');
  assert.ok(matches('Cấp Giấy xác nhận tình trạng hôn nhân', 'xac nhan hon nhan'));
  assert.ok(matches('Đăng ký khai tử', 'khai tử'));
  assert.ok(!matches('Đăng ký khai tử', 'khai sinh'));
  // Composed and decomposed input fold alike.
  assert.equal(fold('Nguye\u0302\u0303n'), 'nguyen');
});
