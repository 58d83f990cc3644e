import CLibCrypto
import Foundation
import RulebookCore

/// Ed25519 through the system's libcrypto: the keys that sign a register's checkpoints.
public enum Ed25519 {
    /// A new key pair: (private key, public key), 32 bytes each.
    public static func generate() throws -> (privateKey: [UInt8], publicKey: [UInt8]) {
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil) else { throw RegisterError("cannot make an Ed25519 key") }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_keygen(context, &key) == 1, let key else {
            throw RegisterError("cannot make an Ed25519 key")
        }
        defer { EVP_PKEY_free(key) }
        return (try raw(key, isPrivate: true), try raw(key, isPrivate: false))
    }

    /// The public key of a private key.
    public static func publicKey(of privateKey: [UInt8]) throws -> [UInt8] {
        let key = try load(privateKey, isPrivate: true)
        defer { EVP_PKEY_free(key) }
        return try raw(key, isPrivate: false)
    }

    /// The 64-byte signature of `message`.
    public static func sign(_ message: [UInt8], privateKey: [UInt8]) throws -> [UInt8] {
        let key = try load(privateKey, isPrivate: true)
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { throw RegisterError("cannot sign: out of memory") }
        defer { EVP_MD_CTX_free(context) }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = 64
        guard EVP_DigestSignInit(context, nil, nil, nil, key) == 1,
              EVP_DigestSign(context, &signature, &length, message, message.count) == 1, length == 64
        else { throw RegisterError("cannot sign the checkpoint") }
        return signature
    }

    /// Whether `signature` is `publicKey`'s signature of `message`.
    public static func verify(_ signature: [UInt8], of message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard signature.count == 64, let key = try? load(publicKey, isPrivate: false) else { return false }
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        return EVP_DigestVerifyInit(context, nil, nil, nil, key) == 1
            && EVP_DigestVerify(context, signature, signature.count, message, message.count) == 1
    }

    private static func load(_ bytes: [UInt8], isPrivate: Bool) throws -> OpaquePointer {
        guard bytes.count == 32 else { throw RegisterError("an Ed25519 key is 32 bytes; this one is \(bytes.count)") }
        let key = isPrivate
            ? EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, bytes, 32)
            : EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, bytes, 32)
        guard let key else { throw RegisterError("not a usable Ed25519 key") }
        return key
    }

    private static func raw(_ key: OpaquePointer, isPrivate: Bool) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length = 32
        let ok = isPrivate ? EVP_PKEY_get_raw_private_key(key, &out, &length) : EVP_PKEY_get_raw_public_key(key, &out, &length)
        guard ok == 1, length == 32 else { throw RegisterError("cannot read an Ed25519 key") }
        return out
    }
}

/// The key a register signs its checkpoints with, read from a key file.
public struct SigningKey: Sendable {
    public let privateKey: [UInt8]
    public let publicKey: [UInt8]

    static let privateHeader = "rulebook ed25519 private key"
    static let publicHeader = "rulebook ed25519 public key"

    public init(privateKey: [UInt8]) throws {
        self.privateKey = privateKey
        publicKey = try Ed25519.publicKey(of: privateKey)
    }

    /// A key file's text: a header line, then the key in hex.
    public static func fileText(privateKey: [UInt8]) -> String { "\(privateHeader)\n\(Hex.encode(privateKey))\n" }
    public static func fileText(publicKey: [UInt8]) -> String { "\(publicHeader)\n\(Hex.encode(publicKey))\n" }

    /// Reads a private key file's text.
    public static func parsePrivate(_ text: String) throws -> SigningKey {
        try SigningKey(privateKey: try parse(text, header: privateHeader))
    }

    /// Reads a public key file's text.
    public static func parsePublic(_ text: String) throws -> [UInt8] { try parse(text, header: publicHeader) }

    private static func parse(_ text: String, header: String) throws -> [UInt8] {
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard lines.count == 2, lines[0] == header, let bytes = Hex.decode(lines[1]), bytes.count == 32 else {
            throw RegisterError("not a \(header) file", hint: "make one with `rulebook key new`")
        }
        return bytes
    }
}

/// Lower-case hexadecimal.
enum Hex {
    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let hi = value(chars[i]), let lo = value(chars[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }
}

/// A signed head of the register's ledger: how many records, the last hash, when.
public struct Checkpoint: Sendable {
    public var records: Int64
    public var hash: String
    public var at: Instant
    public var publicKey: String
    public var signature: String

    /// The exact bytes signed.
    static func message(records: Int64, hash: String, at: Instant) -> [UInt8] {
        Array("rulebook checkpoint v1\nrecords: \(records)\nhash: \(hash)\nat: \(Timestamp.format(at))\n".utf8)
    }

    /// Whether `publicKey` signed it.
    public func isSigned(by publicKey: [UInt8]) -> Bool {
        guard Hex.encode(publicKey) == self.publicKey, let signature = Hex.decode(signature) else { return false }
        return Ed25519.verify(signature, of: Self.message(records: records, hash: hash, at: at), publicKey: publicKey)
    }
}
