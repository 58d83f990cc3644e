import Foundation
import GRDB
import RulebookCore

/// Someone who may use the register through `rulebook serve`: the schools whose incidents
/// they see (or every school), and the roles of the policies they act in. Access control,
/// not evidence: users are kept in the register file but outside its hash chains, and
/// may be changed (disabled, given a new password); what a user recorded stays in the
/// trail under their name.
public struct RegisterUser: Sendable, Equatable {
    public var name: String
    public var schools: [String]
    /// Sees every school's incidents (a role that oversees them all).
    public var allSchools: Bool
    /// Role ids, as the policies name them; a user records only in these roles.
    public var roles: [String]
    public var disabled: Bool
    /// The password's bcrypt hash (never the password); nil for a user who only uses tokens.
    public var passwordHash: String?
    /// Where the notifier mails this user's reminders; nil for none.
    public var email: String? = nil

    public init(name: String, schools: [String], allSchools: Bool, roles: [String], disabled: Bool = false, passwordHash: String? = nil) {
        self.name = name
        self.schools = schools
        self.allSchools = allSchools
        self.roles = roles
        self.disabled = disabled
        self.passwordHash = passwordHash
    }

    /// Whether the user sees incidents of `school` (an incident without a school is seen
    /// only by those who see every school).
    public func sees(school: String?) -> Bool {
        allSchools || school.map { schools.contains($0) } ?? false
    }

    func with(email: String?) -> RegisterUser {
        var copy = self
        copy.email = email
        return copy
    }

    /// A plain `local@domain` address: no spaces, no angle brackets, no line breaks.
    public static func isValidEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && text.utf8.count <= 254
            && !text.unicodeScalars.contains { $0.value <= 32 || "<>(),;:\"[]\\".unicodeScalars.contains($0) || $0.value == 127 }
    }

    /// Letters, digits and `.` `_` `@` `-`, 1 to 64 of them.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64 && name.unicodeScalars.allSatisfy {
            ($0 >= "a" && $0 <= "z") || ($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9") || "._@-".unicodeScalars.contains($0)
        }
    }
}

extension Register {
    private static func decodeList(_ text: String?) -> [String] {
        guard let text, let data = text.data(using: .utf8), let list = try? JSONSerialization.jsonObject(with: data) as? [String] else { return [] }
        return list
    }

    private static func encodeList(_ list: [String]) -> String {
        (try? String(data: JSONSerialization.data(withJSONObject: list), encoding: .utf8) ?? "[]") ?? "[]"
    }

    private static func user(_ row: Row) -> RegisterUser {
        RegisterUser(name: row["name"] ?? "", schools: decodeList(row["schools"]), allSchools: (row["all_schools"] as Int64? ?? 0) != 0,
                     roles: decodeList(row["roles"]), disabled: (row["disabled"] as Int64? ?? 0) != 0, passwordHash: row["password_hash"])
            .with(email: row.hasColumn("email") ? row["email"] : nil)
    }

    /// Sets (or, with nil, removes) the address the notifier mails a user at.
    public func setEmail(_ name: String, _ email: String?) throws {
        if let email, !RegisterUser.isValidEmail(email) {
            throw RegisterError("'\(email.printable)' is not a mail address", hint: "write it as name@example.org", status: .invalid)
        }
        try changeUser(name, "UPDATE user SET email = ? WHERE name = ?", [email, name])
    }

    /// Adds a user; a name already taken is refused.
    public func addUser(_ user: RegisterUser, at: Instant) throws {
        if let email = user.email, !RegisterUser.isValidEmail(email) {
            throw RegisterError("'\(email.printable)' is not a mail address", hint: "write it as name@example.org", status: .invalid)
        }
        guard RegisterUser.isValidName(user.name) else {
            throw RegisterError("'\(user.name.printable)' is not a user name", hint: "use letters, digits and . _ @ - (at most 64)")
        }
        try write { db in
            if try Row.fetchOne(db, sql: "SELECT 1 FROM user WHERE name = ?", arguments: [user.name]) != nil {
                throw RegisterError("there is already a user '\(user.name)'", hint: "rulebook user list shows them", status: .conflict)
            }
            try db.execute(sql: """
                INSERT INTO user (name, password_hash, schools, all_schools, roles, disabled, created_at, email) VALUES (?, ?, ?, ?, ?, 0, ?, ?)
                """, arguments: [user.name, user.passwordHash, Self.encodeList(user.schools), user.allSchools ? 1 : 0,
                                 Self.encodeList(user.roles), at, user.email])
        }
    }

    /// Every user, by name.
    public func users() throws -> [RegisterUser] {
        try read { db in
            guard try db.tableExists("user") else { return [] }
            return try Row.fetchAll(db, sql: "SELECT * FROM user ORDER BY name").map(Self.user)
        }
    }

    public func user(named name: String) throws -> RegisterUser? {
        try read { db in
            guard try db.tableExists("user") else { return nil }
            return try Row.fetchOne(db, sql: "SELECT * FROM user WHERE name = ?", arguments: [name]).map(Self.user)
        }
    }

    private func changeUser(_ name: String, _ sql: String, _ arguments: StatementArguments) throws {
        try write { db in
            try db.execute(sql: sql, arguments: arguments)
            if db.changesCount == 0 {
                throw RegisterError("there is no user '\(name.printable)'", hint: "rulebook user list shows them", status: .notFound)
            }
        }
    }

    public func setDisabled(_ name: String, _ disabled: Bool) throws {
        try changeUser(name, "UPDATE user SET disabled = ? WHERE name = ?", [disabled ? 1 : 0, name])
        if disabled { try write { db in try db.execute(sql: "DELETE FROM api_token WHERE user_name = ?", arguments: [name]) } }
    }

    public func setPasswordHash(_ name: String, _ hash: String) throws {
        try changeUser(name, "UPDATE user SET password_hash = ? WHERE name = ?", [hash, name])
    }

    /// Stores an API token's SHA-256 (the token itself is shown once and never kept).
    public func addToken(user name: String, sha256: String, label: String, at: Instant) throws {
        try write { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM user WHERE name = ? AND disabled = 0", arguments: [name]) != nil else {
                throw RegisterError("there is no enabled user '\(name.printable)'", hint: "rulebook user list shows them", status: .notFound)
            }
            try db.execute(sql: "INSERT INTO api_token (sha256, user_name, label, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [sha256, name, label, at])
        }
    }

    /// A calendar feed's secret is kept as the SHA-256 of `feed:` and the secret, so it can
    /// never pass for an API token (whose hash is of the token alone), nor the reverse.
    public static func feedSHA256(_ secret: String) -> String { sha256Hex("feed:" + secret) }

    /// The enabled user a calendar feed's secret belongs to.
    public func user(forFeedSecret secret: String) throws -> RegisterUser? {
        try user(forTokenSHA256: Self.feedSHA256(secret))
    }

    /// The enabled user an API token (by its SHA-256) belongs to.
    public func user(forTokenSHA256 sha: String) throws -> RegisterUser? {
        try read { db in
            guard try db.tableExists("api_token") else { return nil }
            // A cached statement: every request the server answers asks this.
            return try Row.fetchOne(try db.cachedStatement(sql: """
                SELECT user.* FROM api_token JOIN user ON user.name = api_token.user_name WHERE api_token.sha256 = ? AND user.disabled = 0
                """), arguments: [sha]).map(Self.user)
        }
    }
}

extension Register {
    /// SHA-256 as lowercase hex (what an API token is kept as).
    public static func sha256Hex(_ text: String) -> String { Hashing.sha256(text) }
}
