#!/usr/bin/env python3
"""Generate node/data/holidays.json: the days a Vietnamese ward office is closed.

Why a generator: the official notice for a year (Tết span, swaps) wins over any rule,
but years without a notice need lunar dates (Tết, Giỗ Tổ Hùng Vương) computed with a
correct Vietnamese lunar calendar (UTC+7, not China's UTC+8). The lunar conversion below
is Hồ Ngọc Đức's algorithm ("Âm lịch Việt Nam", amlich.js), transcribed as published.
Run: python3 node/data/gen_holidays.py > node/data/holidays.json
     python3 node/data/gen_holidays.py --check   (prints lunar dates, asserts known ones)

What is listed: every date an office is closed that would otherwise be a working day,
plus each named holiday itself even when it falls on a weekend (so the calendar can
show it). Ordinary Saturdays and Sundays are not listed. "working_saturdays" are weekend
days worked in exchange for a weekday off (hoán đổi).
"""
import datetime as dt
import json
import math
import sys

TZ = 7.0  # Vietnam: UTC+7, no DST.


def jd_from_date(dd, mm, yy):
    a = (14 - mm) // 12
    y = yy + 4800 - a
    m = mm + 12 * a - 3
    jd = dd + (153 * m + 2) // 5 + 365 * y + y // 4 - y // 100 + y // 400 - 32045
    if jd < 2299161:
        jd = dd + (153 * m + 2) // 5 + 365 * y + y // 4 - 32083
    return jd


def jd_to_date(jd):
    if jd > 2299160:
        a = jd + 32044
        b = (4 * a + 3) // 146097
        c = a - (b * 146097) // 4
    else:
        b = 0
        c = jd + 32082
    d = (4 * c + 3) // 1461
    e = c - (1461 * d) // 4
    m = (5 * e + 2) // 153
    day = e - (153 * m + 2) // 5 + 1
    month = m + 3 - 12 * (m // 10)
    year = b * 100 + d - 4800 + m // 10
    return dt.date(year, month, day)


def new_moon(k):
    t = k / 1236.85
    t2 = t * t
    t3 = t2 * t
    dr = math.pi / 180
    jd1 = 2415020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3
    jd1 += 0.00033 * math.sin((166.56 + 132.87 * t - 0.009173 * t2) * dr)
    m = 359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3
    mpr = 306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3
    f = 21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3
    c1 = (0.1734 - 0.000393 * t) * math.sin(m * dr) + 0.0021 * math.sin(2 * dr * m)
    c1 = c1 - 0.4068 * math.sin(mpr * dr) + 0.0161 * math.sin(dr * 2 * mpr)
    c1 = c1 - 0.0004 * math.sin(dr * 3 * mpr)
    c1 = c1 + 0.0104 * math.sin(dr * 2 * f) - 0.0051 * math.sin(dr * (m + mpr))
    c1 = c1 - 0.0074 * math.sin(dr * (m - mpr)) + 0.0004 * math.sin(dr * (2 * f + m))
    c1 = c1 - 0.0004 * math.sin(dr * (2 * f - m)) - 0.0006 * math.sin(dr * (2 * f + mpr))
    c1 = c1 + 0.0010 * math.sin(dr * (2 * f - mpr)) + 0.0005 * math.sin(dr * (2 * mpr + m))
    if t < -11:
        deltat = 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
    else:
        deltat = -0.000278 + 0.000265 * t + 0.000262 * t2
    return jd1 + c1 - deltat


def sun_longitude(jdn):
    t = (jdn - 2451545.0) / 36525
    t2 = t * t
    dr = math.pi / 180
    m = 357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2
    l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2
    dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * math.sin(dr * m)
    dl += (0.019993 - 0.000101 * t) * math.sin(dr * 2 * m) + 0.000290 * math.sin(dr * 3 * m)
    lon = (l0 + dl) * dr
    return lon - math.pi * 2 * math.floor(lon / (math.pi * 2))


def get_sun_longitude(day_number, tz):
    return math.floor(sun_longitude(day_number - 0.5 - tz / 24) / math.pi * 6)


def get_new_moon_day(k, tz):
    return math.floor(new_moon(k) + 0.5 + tz / 24)


def get_lunar_month11(yy, tz):
    off = jd_from_date(31, 12, yy) - 2415021
    k = math.floor(off / 29.530588853)
    nm = get_new_moon_day(k, tz)
    if get_sun_longitude(nm, tz) >= 9:
        nm = get_new_moon_day(k - 1, tz)
    return nm


def get_leap_month_offset(a11, tz):
    k = math.floor((a11 - 2415021.076998695) / 29.530588853 + 0.5)
    i = 1
    arc = get_sun_longitude(get_new_moon_day(k + i, tz), tz)
    while True:
        last = arc
        i += 1
        arc = get_sun_longitude(get_new_moon_day(k + i, tz), tz)
        if not (arc != last and i < 14):
            break
    return i - 1


def lunar_to_solar(lday, lmonth, lyear, leap=False, tz=TZ):
    if lmonth < 11:
        a11 = get_lunar_month11(lyear - 1, tz)
        b11 = get_lunar_month11(lyear, tz)
    else:
        a11 = get_lunar_month11(lyear, tz)
        b11 = get_lunar_month11(lyear + 1, tz)
    k = math.floor(0.5 + (a11 - 2415021.076998695) / 29.530588853)
    off = lmonth - 11
    if off < 0:
        off += 12
    if b11 - a11 > 365:
        leap_off = get_leap_month_offset(a11, tz)
        leap_month = leap_off - 2
        if leap_month < 0:
            leap_month += 12
        if leap and lmonth != leap_month:
            raise ValueError("no such leap month")
        if leap or off >= leap_off:
            off += 1
    month_start = get_new_moon_day(k + off, tz)
    return jd_to_date(month_start + lday - 1)


CAN = ["Canh", "Tân", "Nhâm", "Quý", "Giáp", "Ất", "Bính", "Đinh", "Mậu", "Kỷ"]
CHI = ["Thân", "Dậu", "Tuất", "Hợi", "Tý", "Sửu", "Dần", "Mão", "Thìn", "Tỵ", "Ngọ", "Mùi"]


def can_chi(year):
    return f"{CAN[year % 10]} {CHI[year % 12]}"


def tet(year):
    return lunar_to_solar(1, 1, year)


def hung_vuong(year):
    return lunar_to_solar(10, 3, year)


# Hand-checked against DOMAIN-FACTS.md §2 (vacanza/holidays) and the official notices.
KNOWN = {
    2025: (dt.date(2025, 1, 29), dt.date(2025, 4, 7)),
    2026: (dt.date(2026, 2, 17), dt.date(2026, 4, 26)),
    2027: (dt.date(2027, 2, 6), dt.date(2027, 4, 16)),
    2028: (dt.date(2028, 1, 26), dt.date(2028, 4, 4)),
}

WEEKDAY_VI = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật"]


def fmt(d):
    return d.isoformat()


def vi(d):
    return f"{WEEKDAY_VI[d.weekday()]} {d.day:02d}/{d.month:02d}/{d.year}"


class Year:
    def __init__(self, year, source, source_status):
        self.year = year
        self.source = source
        self.source_status = source_status
        self.days = {}  # date -> entry
        self.saturdays = []

    def add(self, d, name, kind, status=None):
        assert d.year == self.year, d
        assert d not in self.days, f"duplicate {d}"
        e = {"date": fmt(d), "name": name, "kind": kind}
        if status:
            e["source_status"] = status
        self.days[d] = e

    def work_saturday(self, d, name, kind, status=None):
        assert d.weekday() == 5, d
        e = {"date": fmt(d), "name": name, "kind": kind}
        if status:
            e["source_status"] = status
        self.saturdays.append(e)

    def is_off(self, d):
        return d.weekday() >= 5 or d in self.days

    def compensate(self, holidays, status):
        """BLLĐ 2019 Art 111(3): a holiday on a weekly rest day gives a rest day on the
        next working day. Holidays are processed in date order so a run of several
        (Tết) pushes its compensating days past the run."""
        for d in sorted(holidays):
            if d.weekday() < 5:
                continue
            n = d + dt.timedelta(days=1)
            while self.is_off(n):
                n += dt.timedelta(days=1)
            base = self.days[d]["name"].split(" (")[0]
            self.add(n, f"Nghỉ bù cho {vi(d)} ({base})", "rule", status)

    def to_json(self):
        return {
            "year": self.year,
            "source": self.source,
            "source_status": self.source_status,
            "holidays": [self.days[d] for d in sorted(self.days)],
            "working_saturdays": sorted(self.saturdays, key=lambda e: e["date"]),
        }


def quoc_khanh_second_day(year):
    """Art 112(1)(đ): 2/9 plus one adjacent day the Prime Minister picks. Past notices
    picked the weekday that joins a weekend: 2021 Thu→Fri 3/9, 2022 Fri→Thu 1/9,
    2023 Sat→Fri 1/9, 2024 Mon→Tue 3/9, 2025 Tue→Mon 1/9. For a Wednesday (no
    precedent) we take Thu 3/9; for a Sunday, Mon 3/9."""
    d = dt.date(year, 9, 2)
    if d.weekday() in (1, 4, 5):  # Tue, Fri, Sat
        return dt.date(year, 9, 1)
    return dt.date(year, 9, 3)


def rule_year(year):
    y = Year(year,
             "Chưa có thông báo chính thức: ngày tính theo BLLĐ 2019 Điều 112 khoản 1 và "
             "Điều 111 khoản 3 (nghỉ bù), âm lịch Việt Nam (UTC+7, thuật toán Hồ Ngọc Đức). "
             "Tết: ngày cuối năm âm lịch và mùng 1–4; ngày liền kề Quốc khánh theo tiền lệ "
             "2021–2025. Thay bằng thông báo của Bộ Nội vụ khi có.",
             "unverified")
    named = []

    def named_day(d, name, kind, status=None):
        y.add(d, name, kind, status)
        named.append(d)

    named_day(dt.date(year, 1, 1), "Tết Dương lịch", "official")
    t = tet(year)
    eve = t - dt.timedelta(days=1)
    lunar_eve_day = (eve - lunar_to_solar(1, 12, year - 1)).days + 1
    named_day(eve, f"Tết Nguyên đán {can_chi(year)} ({lunar_eve_day} tháng Chạp)", "rule")
    for i in range(4):
        named_day(t + dt.timedelta(days=i),
                  f"Tết Nguyên đán {can_chi(year)} (mùng {i + 1} tháng Giêng)", "rule")
    named_day(hung_vuong(year), "Giỗ Tổ Hùng Vương (10/3 âm lịch)", "rule")
    named_day(dt.date(year, 4, 30), "Ngày Chiến thắng (30/4)", "official")
    named_day(dt.date(year, 5, 1), "Ngày Quốc tế Lao động (1/5)", "official")
    named_day(dt.date(year, 9, 2), "Quốc khánh (2/9)", "official")
    named_day(quoc_khanh_second_day(year), "Quốc khánh (ngày liền kề)", "rule")
    y.compensate(named, None)
    return y


def year_2025():
    y = Year(2025,
             "Tết: 8726/VPCP-KGVX (26/11/2024), nghỉ thứ Bảy 25/1–Chủ nhật 2/2/2025; "
             "30/4–1/5: hoán đổi nghỉ thứ Sáu 2/5, làm bù thứ Bảy 26/4; Quốc khánh "
             "thứ Bảy 30/8–thứ Ba 2/9 (TB 6150/TB-BLĐTBXH). See DOMAIN-FACTS.md §2.",
             "secondary")
    y.add(dt.date(2025, 1, 1), "Tết Dương lịch", "official")
    names = {27: "28 tháng Chạp", 28: "29 tháng Chạp", 29: "mùng 1 tháng Giêng",
             30: "mùng 2 tháng Giêng", 31: "mùng 3 tháng Giêng"}
    for day, lunar in names.items():
        y.add(dt.date(2025, 1, day), f"Tết Nguyên đán Ất Tỵ ({lunar})", "official", "verified")
    y.add(dt.date(2025, 4, 7), "Giỗ Tổ Hùng Vương (10/3 âm lịch)", "official")
    y.add(dt.date(2025, 4, 30), "Ngày Chiến thắng (30/4)", "official")
    y.add(dt.date(2025, 5, 1), "Ngày Quốc tế Lao động (1/5)", "official")
    y.add(dt.date(2025, 5, 2), "Nghỉ hoán đổi (làm bù thứ Bảy 26/04/2025)", "official")
    y.work_saturday(dt.date(2025, 4, 26), "Làm bù cho ngày nghỉ thứ Sáu 02/05/2025", "official")
    y.add(dt.date(2025, 9, 1), "Quốc khánh (ngày liền kề)", "official")
    y.add(dt.date(2025, 9, 2), "Quốc khánh (2/9)", "official")
    return y


def year_2026():
    y = Year(2026,
             "Tết Dương lịch: 12729/VPCP-KGVX (25/12/2025), nghỉ thứ Năm 1/1–Chủ nhật 4/1, "
             "hoán đổi thứ Sáu 2/1 sang thứ Bảy 10/1 (báo chí). Tết Nguyên đán: nghỉ thứ Bảy "
             "14/2–Chủ nhật 22/2/2026 (27 tháng Chạp–mùng 6), thông báo 9441/TB-BNV "
             "(congan.com.vn). Giỗ Tổ rơi Chủ nhật 26/4: nghỉ bù thứ Hai 27/4 (Điều 111). "
             "30/4, 1/5, Quốc khánh: theo luật; ngày liền kề Quốc khánh chưa có thông báo.",
             "secondary")
    y.add(dt.date(2026, 1, 1), "Tết Dương lịch", "official")
    y.add(dt.date(2026, 1, 2), "Nghỉ hoán đổi Tết Dương lịch (làm bù thứ Bảy 10/01/2026)",
          "official")
    y.work_saturday(dt.date(2026, 1, 10), "Làm bù cho ngày nghỉ thứ Sáu 02/01/2026", "official")
    names = {16: "29 tháng Chạp", 17: "mùng 1 tháng Giêng", 18: "mùng 2 tháng Giêng",
             19: "mùng 3 tháng Giêng", 20: "mùng 4 tháng Giêng"}
    for day, lunar in names.items():
        y.add(dt.date(2026, 2, day), f"Tết Nguyên đán Bính Ngọ ({lunar})", "official", "verified")
    y.add(dt.date(2026, 4, 26), "Giỗ Tổ Hùng Vương (10/3 âm lịch)", "official")
    y.add(dt.date(2026, 4, 27), "Nghỉ bù cho Chủ nhật 26/04/2026 (Giỗ Tổ Hùng Vương)", "rule")
    y.add(dt.date(2026, 4, 30), "Ngày Chiến thắng (30/4)", "official")
    y.add(dt.date(2026, 5, 1), "Ngày Quốc tế Lao động (1/5)", "official")
    y.add(dt.date(2026, 9, 2), "Quốc khánh (2/9)", "official")
    y.add(quoc_khanh_second_day(2026), "Quốc khánh (ngày liền kề)", "rule", "unverified")
    return y


def check():
    for year in range(2024, 2032):
        t, h = tet(year), hung_vuong(year)
        print(f"{year} {can_chi(year)}: Tết {vi(t)}, Hùng Vương {vi(h)}", file=sys.stderr)
    for year, (t, h) in KNOWN.items():
        assert tet(year) == t, (year, tet(year), t)
        assert hung_vuong(year) == h, (year, hung_vuong(year), h)


def main():
    check()
    if "--check" in sys.argv:
        return
    # The 2026 notice agrees with the lunar calendar: 16/2 is the 29th of month 12.
    assert tet(2026) - dt.timedelta(days=1) == dt.date(2026, 2, 16)
    years = [year_2025(), year_2026()] + [rule_year(y) for y in range(2027, 2031)]
    doc = {
        "format_version": 1,
        "description": "Ngày nghỉ lễ, Tết của cơ quan hành chính (công chức, viên chức), "
                       "theo năm. Ngày làm việc: thứ Hai–thứ Sáu trừ các ngày dưới đây; "
                       "cộng các thứ Bảy làm bù. Thông báo chính thức của năm luôn thắng quy tắc.",
        "timezone": "UTC+07:00",
        "generated_by": "node/data/gen_holidays.py",
        "kinds": {
            "official": "fixed by the Labour Code 2019 Art 112 or by the year's official notice",
            "rule": "computed here (lunar date, compensating day, chosen adjacent day) "
                    "until the year's notice is published",
        },
        "notes": [
            "24/11 Ngày Văn hóa Việt Nam: chủ trương nghỉ lễ (NQ 80-NQ/TW, NQ 30/NQ-CP giao "
            "sửa Điều 112 BLLĐ, 2/2026) nhưng chưa thấy văn bản luật có hiệu lực; chưa đưa vào "
            "danh sách. Thêm khi luật sửa đổi có hiệu lực.",
            "Năm 2025: thông báo hoán đổi ngày 2/5 và Quốc khánh theo nguồn thứ cấp (báo chí).",
        ],
        "years": [y.to_json() for y in years],
    }
    json.dump(doc, sys.stdout, ensure_ascii=False, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
