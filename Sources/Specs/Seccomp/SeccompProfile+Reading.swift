/// Strict decoding of a policy's seccomp section.
extension SeccompProfile {
    static let keys = ["defaultAction", "badArchAction", "allow", "deny", "audit", "rules", "logDenials"]

    static func read(_ reader: JSONReader) throws(SpecError) -> SeccompProfile {
        do {
            let object = try reader.object(keys: keys)
            var seen = SeenSyscalls()
            let defaultAction = try object.optional("defaultAction").map { r throws(SpecError) in try readAction(r) } ?? .errno(1)
            let badArch = try object.optional("badArchAction").map { r throws(SpecError) in try readAction(r) } ?? .killProcess
            if badArch == .allow || badArch == .log, let r = object.optional("badArchAction") {
                throw r.specError("\(badArch) would let calls through a foreign ABI (i386, x32) bypass the filter")
            }
            let allow = try readAllow(try object.required("allow"), seen: &seen)
            let deny = try object.optional("deny").map { r throws(SpecError) in try readDeny(r, seen: &seen) } ?? []
            let audit = try object.optional("audit").map { r throws(SpecError) in try readAudit(r, seen: &seen) } ?? []
            let allowedNames = Set(allow.flatMap { $0.syscalls.map(\.name) })
            let rules = try object.optional("rules").map { r throws(SpecError) in try readRules(r, seen: seen, allowed: allowedNames) } ?? []
            let log = try object.optional("logDenials")?.bool() ?? false
            return SeccompProfile(defaultAction: defaultAction, badArchAction: badArch, allow: allow, deny: deny,
                                  audit: audit, rules: rules, logDenials: log,
                                  canonicalJSON: JSONWriter.canonical(reader.value))
        } catch let error as SpecError {
            throw error
        } catch let error as JSONError {
            throw SpecError(error)
        } catch {
            throw SpecError(code: .invalidValue, file: reader.document.file ?? "<input>", message: "\(error)")
        }
    }

    /// Tracks where each syscall was first named, so a second mention is an error that points at both.
    struct SeenSyscalls {
        /// Where each name was first listed; paths are rendered only when an error needs them.
        var firstPaths: [String: JSONPath]

        init() { firstPaths = Dictionary(minimumCapacity: 512) }

        /// The JSON path of the first mention of `name`, if any.
        func place(of name: String) -> String? { firstPaths[name]?.description }

        mutating func claim(_ reader: JSONReader) throws(SpecError) -> Syscall {
            let name: String
            do { name = try reader.string() } catch { throw SpecError(error) }
            // One pass: lower-case letters, digits and '_' only (this also excludes NUL and empty names).
            let valid = !name.isEmpty && name.utf8.count <= 64
                && name.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
            guard valid else { throw reader.specError("\"\(name)\" is not a syscall name", code: .unknownSyscall) }
            if let first = firstPaths.updateValue(reader.path, forKey: name) {
                firstPaths[name] = first
                throw reader.specError("\(name) is already listed at \(first); each syscall may appear once")
            }
            return Syscall(name: name, origin: SourceRef(reader))
        }
    }

    static func readAction(_ reader: JSONReader) throws(SpecError) -> Action {
        if case .object = reader.value {
            let object: JSONObjectReader
            do { object = try reader.object(keys: ["errno"]) } catch { throw SpecError(error) }
            let errnoReader: JSONReader
            do { errnoReader = try object.required("errno") } catch { throw SpecError(error) }
            return .errno(try readErrno(errnoReader))
        }
        let names: [String: Action] = ["allow": .allow, "kill_process": .killProcess, "kill_thread": .killThread,
                                       "trap": .trap, "log": .log]
        let word = try reader.text()
        guard let action = names[word] else {
            var message = "unknown action \"\(word)\"; use one of \(names.keys.sorted().joined(separator: ", ")) or {\"errno\": \"EPERM\"}"
            if let hint = Spelling.suggestion(for: word, among: Array(names.keys)) { message += " (did you mean \"\(hint)\"?)" }
            throw reader.specError(message)
        }
        return action
    }

    static func readErrno(_ reader: JSONReader) throws(SpecError) -> Int32 {
        if case .number = reader.value { return Int32(try reader.count(in: 1...4095)) }
        let name = try reader.text()
        guard let code = SeccompConstants.errnos[name] else {
            var message = "unknown errno name \"\(name)\""
            if let hint = Spelling.suggestion(for: name, among: Array(SeccompConstants.errnos.keys)) { message += "; did you mean \"\(hint)\"?" }
            throw reader.specError(message)
        }
        return code
    }

    static func readAllow(_ reader: JSONReader, seen: inout SeenSyscalls) throws(SpecError) -> [AllowGroup] {
        let object: JSONObjectReader
        do { object = try reader.anyObject() } catch { throw SpecError(error) }
        var groups: [AllowGroup] = []
        for member in object.members {
            let names: [JSONReader]
            do { names = try member.reader.array() } catch { throw SpecError(error) }
            var syscalls: [Syscall] = []
            for name in names { syscalls.append(try seen.claim(name)) }
            groups.append(AllowGroup(purpose: member.key, syscalls: syscalls))
        }
        return groups
    }

    static func readDeny(_ reader: JSONReader, seen: inout SeenSyscalls) throws(SpecError) -> [Denial] {
        var result: [Denial] = []
        let entries: [JSONReader]
        do { entries = try reader.array() } catch { throw SpecError(error) }
        for entry in entries {
            let object: JSONObjectReader
            do { object = try entry.object(keys: ["errno", "action", "syscalls", "comment"]) } catch { throw SpecError(error) }
            let action: Action
            switch (object.optional("errno"), object.optional("action")) {
            case (let errno?, nil): action = .errno(try readErrno(errno))
            case (nil, let named?):
                action = try readAction(named)
                if action == .allow { throw named.specError("a denial cannot allow; list the syscall under \"allow\"") }
            default: throw entry.specError("a denial needs exactly one of \"errno\" and \"action\"", code: .schema)
            }
            _ = try object.optional("comment")?.text(allowEmpty: true)
            result.append(Denial(action: action, syscalls: try readNames(object, seen: &seen)))
        }
        return result
    }

    static func readAudit(_ reader: JSONReader, seen: inout SeenSyscalls) throws(SpecError) -> [Audit] {
        var result: [Audit] = []
        let entries: [JSONReader]
        do { entries = try reader.array() } catch { throw SpecError(error) }
        for entry in entries {
            let object: JSONObjectReader
            do { object = try entry.object(keys: ["errno", "syscalls", "comment"]) } catch { throw SpecError(error) }
            let errnoReader: JSONReader
            do { errnoReader = try object.required("errno") } catch { throw SpecError(error) }
            _ = try object.optional("comment")?.text(allowEmpty: true)
            result.append(Audit(errno: try readErrno(errnoReader), syscalls: try readNames(object, seen: &seen)))
        }
        return result
    }

    static func readNames(_ object: JSONObjectReader, seen: inout SeenSyscalls) throws(SpecError) -> [Syscall] {
        let list: [JSONReader]
        do { list = try object.required("syscalls").array() } catch { throw SpecError(error) }
        if list.isEmpty { throw object.reader.specError("\"syscalls\" is empty") }
        var syscalls: [Syscall] = []
        for name in list { syscalls.append(try seen.claim(name)) }
        return syscalls
    }
}
