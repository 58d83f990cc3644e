import GRDB

/// Reading columns without ever trapping. GRDB's typed subscripts stop the process on a
/// NULL or a value of the wrong type, and a register that was tampered with may hold
/// either; here such a value reads as nil, and the caller reports the damage.
extension Row {
    /// The column's value as `T`, or nil when it is NULL or not a `T`.
    func value<T: DatabaseValueConvertible>(_ column: String) -> T? {
        T.fromDatabaseValue(self[column] as DatabaseValue)
    }

    /// The column's value, or an error naming the damage.
    func required<T: DatabaseValueConvertible>(_ column: String, in what: @autoclosure () -> String) throws -> T {
        guard let v: T = value(column) else {
            throw RegisterError("the register is damaged: \(what()) has an unreadable \(column)",
                                hint: "run rulebook verify to find what was changed")
        }
        return v
    }
}
