#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Parsing numbers and option names out of argument bytes without making Strings.
enum ByteParsing {
    /// A signed 64-bit decimal exactly as Redis accepts it (util.c, string2ll): an optional `-`,
    /// digits, no blanks, no `+`, no leading zeros; nil otherwise or on overflow.
    static func int64(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        let count = bytes.count
        guard count > 0, count <= 20 else { return nil }
        if count == 1 && bytes[0] == UInt8(ascii: "0") { return 0 }
        var index = 0
        var negative = false
        if bytes[0] == UInt8(ascii: "-") {
            negative = true
            index = 1
            guard count > 1 else { return nil }
        }
        let first = bytes[index]
        guard first >= UInt8(ascii: "1") && first <= UInt8(ascii: "9") else { return nil }
        var magnitude: UInt64 = 0
        while index < count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow1 && !overflow2 else { return nil }
            magnitude = sum
            index += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// An unsigned 64-bit decimal (SCAN cursors).
    static func uint64(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard bytes.count > 0, bytes.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            let digit = byte &- UInt8(ascii: "0")
            guard digit <= 9 else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow1 && !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    /// A floating-point number as Redis accepts it (util.c, string2d: strtod over the whole
    /// argument): no leading or trailing blanks; `inf`, `+infinity`, `-inf` in any case
    /// allowed, `nan` refused. A magnitude past Double's range reads as an infinity, and one
    /// below it as zero, unless `rangeChecked`: then, as for ZADD's scores in Redis, strtod's
    /// ERANGE with an infinite or zero result refuses it.
    ///
    /// Called for every score of ZADD and friends, so the common case, a whole number, costs
    /// neither a String nor strtod: up to 15 digits it is exact in a Double (10^15 < 2^53).
    /// Contract: strtod reads '.' as the decimal point because nothing in the server calls
    /// setlocale, so LC_NUMERIC stays "C".
    static func double(_ bytes: UnsafeRawBufferPointer, rangeChecked: Bool = false) -> Double? {
        let count = bytes.count
        guard count > 0, count < 256 else { return nil }
        guard !isBlank(bytes[0]), !isBlank(bytes[count - 1]) else { return nil }
        if count <= 16, let whole = int64(bytes), whole.magnitude < 1_000_000_000_000_000 {
            return Double(whole)
        }
        // strtod stops at a NUL byte; Redis requires every byte read, so "1\0" is no float.
        guard !bytes.contains(0) else { return nil }
        return withTerminatedCopy(bytes) { start -> Double? in
            var end: UnsafeMutablePointer<CChar>?
            errno = 0
            let value = strtod(start, &end)
            guard end == start + count, !value.isNaN else { return nil }
            if rangeChecked && errno == ERANGE && (value.isInfinite || value == 0) { return nil }
            return value
        }
    }

    /// A double as SORT reads an element (sort.c: strtod over the whole element): leading
    /// blanks and hexadecimal allowed, an empty element 0; trailing bytes, NaN, or any
    /// out-of-range magnitude (overflow or underflow) refused.
    static func sortDouble(_ bytes: UnsafeRawBufferPointer) -> Double? {
        guard !bytes.contains(0) else { return nil }
        return withTerminatedCopy(bytes) { start -> Double? in
            var end: UnsafeMutablePointer<CChar>?
            errno = 0
            let value = strtod(start, &end)
            guard end == start + bytes.count, errno != ERANGE, !value.isNaN else { return nil }
            return value
        }
    }

    /// Runs `body` on a NUL-terminated copy of `bytes` on the stack, for C's parsers.
    private static func withTerminatedCopy<Result>(_ bytes: UnsafeRawBufferPointer,
                                                   _ body: (UnsafeMutablePointer<CChar>) -> Result) -> Result {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: bytes.count + 1) { text in
            let start = text.baseAddress!
            bytes.withMemoryRebound(to: CChar.self) { source in
                if let source = source.baseAddress { start.initialize(from: source, count: bytes.count) }
            }
            start[bytes.count] = 0
            return body(start)
        }
    }

    /// The bytes C's isspace() accepts: space, \t, \n, \v, \f, \r.
    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    /// Whether `bytes` equals the ASCII `word` ignoring case; `word` is given in upper case.
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
        guard bytes.count == word.utf8CodeUnitCount else { return false }
        let expected = word.utf8Start
        for index in 0..<bytes.count {
            var byte = bytes[index]
            if byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") { byte -= 32 }
            if byte != expected[index] { return false }
        }
        return true
    }
    static func string(_ bytes: UnsafeRawBufferPointer) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

/// The type Redis does INCRBYFLOAT and HINCRBYFLOAT in: C's `long double`, which on x86 is
/// the x87 80-bit extended format, as Float80 is. So `0.1 + 0.2` prints `0.3`, and `1e400` is
/// a number, exactly as in Redis built for the same machine. Other architectures fall back to
/// Double: Swift has no 128-bit float, so there the results differ in the last digits.
#if arch(x86_64) || arch(i386)
public typealias LongDouble = Float80
#else
public typealias LongDouble = Double
#endif

extension ByteParsing {
    /// Redis's limit on the text of a `long double` (util.h, MAX_LONG_DOUBLE_CHARS): the
    /// longest one printed with `%.17Lf` (LDBL_MAX) is about 4,950 characters.
    static let maxLongDoubleCharacters = 5 * 1024

    /// A `long double` as Redis accepts one (util.c, string2ld: strtold over the whole
    /// argument): no leading blank and nothing left over; `nan` refused; a magnitude past the
    /// type's range (strtold's ERANGE with an infinite or zero result) refused; `inf` and hex
    /// floats (`0x1p3`) allowed, as strtold reads them. Contract: LC_NUMERIC stays "C" (see
    /// `double`).
    static func longDouble(_ bytes: UnsafeRawBufferPointer) -> LongDouble? {
        let count = bytes.count
        guard count > 0, count < maxLongDoubleCharacters, !isBlank(bytes[0]), !bytes.contains(0) else { return nil }
        return withTerminatedCopy(bytes) { start -> LongDouble? in
            var end: UnsafeMutablePointer<CChar>?
            errno = 0
            #if arch(x86_64) || arch(i386)
            let value = strtold(start, &end)
            #else
            let value = strtod(start, &end)
            #endif
            guard end == start + count, !value.isNaN, errno != EINVAL else { return nil }
            if errno == ERANGE && (value.isInfinite || value == 0) { return nil }
            return value
        }
    }
}

/// Formatting numbers the way Redis replies with them.
public enum NumberFormatting {
    /// A finite `long double` as INCRBYFLOAT and HINCRBYFLOAT store it (util.c, ld2string in
    /// LD_STR_HUMAN mode): `%.17Lf`, then the fraction's trailing zeros and a bare point
    /// dropped, and `-0` written `0`. So `10.5`, `3`, `-0.001`, `0.3` (for 0.1 + 0.2), and a
    /// number as large as 1e400 in plain digits. 17 digits after the point round away the
    /// binary representation's noise in what people add (Redis's comment says as much).
    public static func humanLongDouble(_ value: LongDouble) -> [UInt8] {
        precondition(value.isFinite, "callers refuse NaN and infinities first")
        return [UInt8](unsafeUninitializedCapacity: ByteParsing.maxLongDoubleCharacters) { buffer, initialized in
            let capacity = buffer.count
            var length = buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: capacity) { text in
                withVaList([value]) { arguments in
                    #if arch(x86_64) || arch(i386)
                    Int(vsnprintf(text, capacity, "%.17Lf", arguments))
                    #else
                    Int(vsnprintf(text, capacity, "%.17f", arguments))
                    #endif
                }
            }
            // LDBL_MAX prints in about 4,950 characters: it always fits.
            length = min(length, capacity - 1)
            if buffer[0..<length].contains(UInt8(ascii: ".")) {
                while buffer[length - 1] == UInt8(ascii: "0") { length -= 1 }
                if buffer[length - 1] == UInt8(ascii: ".") { length -= 1 }
            }
            if length == 2 && buffer[0] == UInt8(ascii: "-") && buffer[1] == UInt8(ascii: "0") {
                buffer[0] = UInt8(ascii: "0")
                length = 1
            }
            initialized = length
        }
    }
}
