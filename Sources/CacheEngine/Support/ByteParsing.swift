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
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: count + 1) { text -> Double? in
            let start = text.baseAddress!
            bytes.withMemoryRebound(to: CChar.self) { source in
                start.initialize(from: source.baseAddress!, count: count)
            }
            start[count] = 0
            var end: UnsafeMutablePointer<CChar>?
            errno = 0
            let value = strtod(start, &end)
            guard end == start + count, !value.isNaN else { return nil }
            if rangeChecked && errno == ERANGE && (value.isInfinite || value == 0) { return nil }
            return value
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

/// Formatting numbers the way Redis replies with them.
public enum NumberFormatting {
    /// A double in plain decimal notation with no exponent and no trailing zeros, as Redis's
    /// INCRBYFLOAT stores it (util.c, ld2string in human-friendly mode): `10.5`, `3`, `-0.001`.
    public static func humanDouble(_ value: Double) -> String {
        if value == 0 { return "0" }
        let description = "\(value)"
        guard let exponentIndex = description.firstIndex(where: { $0 == "e" || $0 == "E" }) else {
            return trimFraction(description)
        }
        let mantissa = description[..<exponentIndex]
        guard let exponent = Int(description[description.index(after: exponentIndex)...]) else { return description }
        let negative = mantissa.hasPrefix("-")
        let unsigned = negative ? mantissa.dropFirst() : mantissa[...]
        let parts = unsigned.split(separator: ".", omittingEmptySubsequences: false)
        let integerDigits = String(parts[0])
        let fractionDigits = parts.count > 1 ? String(parts[1]) : ""
        var digits = integerDigits + fractionDigits
        var pointPosition = integerDigits.count + exponent
        if pointPosition <= 0 {
            digits = String(repeating: "0", count: -pointPosition + 1) + digits
            pointPosition = 1
        } else if pointPosition > digits.count {
            digits += String(repeating: "0", count: pointPosition - digits.count)
        }
        let integerPart = digits.prefix(pointPosition)
        let fractionPart = digits.dropFirst(pointPosition)
        let plain = fractionPart.isEmpty ? String(integerPart) : "\(integerPart).\(fractionPart)"
        return (negative ? "-" : "") + trimFraction(plain)
    }

    private static func trimFraction(_ text: String) -> String {
        guard text.contains(".") else { return text }
        var trimmed = Substring(text)
        while trimmed.hasSuffix("0") { trimmed = trimmed.dropLast() }
        if trimmed.hasSuffix(".") { trimmed = trimmed.dropLast() }
        return String(trimmed)
    }
}
