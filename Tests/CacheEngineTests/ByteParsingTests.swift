import Testing

@testable import CacheEngine

@Suite("Parsing numbers from argument bytes")
struct ByteParsingTests {
    func double(_ bytes: [UInt8], rangeChecked: Bool = false) -> Double? {
        bytes.withUnsafeBytes { ByteParsing.double($0, rangeChecked: rangeChecked) }
    }

    func double(_ text: String, rangeChecked: Bool = false) -> Double? {
        double(Array(text.utf8), rangeChecked: rangeChecked)
    }

    @Test("floats read the way Redis's strtod-based parsing reads them")
    func floats() {
        let accepted: [(String, Double)] = [
            ("0", 0), ("1", 1), ("-1", -1), ("+5", 5), ("007", 7), ("1.5", 1.5), (".5", 0.5), ("1.", 1),
            ("+.5e+2", 50), ("-2.5E-3", -0.0025), ("0x1p3", 8),
            ("999999999999999", 999_999_999_999_999), ("-999999999999999", -999_999_999_999_999),
            // Past 2^53: strtod's rounding, not an integer conversion's.
            ("9007199254740993", 9_007_199_254_740_992), ("1000000000000000", 1e15),
            ("12345678901234567890", 12_345_678_901_234_567_890), ("-9223372036854775808", -9_223_372_036_854_775_808),
            ("inf", .infinity), ("INF", .infinity), ("+inf", .infinity), ("Infinity", .infinity),
            ("-inf", -.infinity), ("-INFINITY", -.infinity), ("1e400", .infinity), ("-1e400", -.infinity),
            ("1e-400", 0),
        ]
        for (text, expected) in accepted {
            #expect(double(text) == expected, "\(text)")
        }
        #expect(double("-0")?.sign == .minus, "-0 keeps its sign")
        #expect(double("0")?.sign == .plus)
    }

    @Test("blanks, trailing junk, NaN and bytes that are not a number are refused")
    func refused() {
        for text in ["", " 1", "1 ", "\t1", "1\n", "\r", "1e", "e1", "abc", "1.5x", "--1", "+-1", "nan", "NaN", "-nan", "1,5", "0x", "１"] {
            #expect(double(text) == nil, "\(text.debugDescription)")
        }
        #expect(double([0x31, 0x00]) == nil, "a NUL byte after the digits")
        #expect(double([0x31, 0x00, 0x32]) == nil, "a NUL byte inside")
        #expect(double([0xFF]) == nil, "invalid UTF-8")
        #expect(double(Array(repeating: UInt8(ascii: "1"), count: 256)) == nil, "256 bytes or more")
    }

    @Test("range-checked, as for ZADD's scores: overflow and underflow to zero are refused, spelled infinities and denormals are not")
    func rangeChecked() {
        for text in ["1e400", "-1e400", "1e-400", "-1e-400", "1e309", "2e308"] {
            #expect(double(text, rangeChecked: true) == nil, "\(text)")
            #expect(double(text) != nil, "\(text) unchecked")
        }
        for (text, expected) in [("inf", Double.infinity), ("-Infinity", -.infinity), ("0e-400", 0), ("4e-320", 4e-320), ("1.7976931348623157e308", .greatestFiniteMagnitude), ("12", 12)] {
            #expect(double(text, rangeChecked: true) == expected, "\(text)")
        }
    }
}
