/// Decoding of argument rules: `{"syscall": "clone", "action": "allow", "when": [{"arg": 0, "op": "masked==",
/// "mask": "CLONE_NEWUSER|...", "value": 0}]}`. Values and masks are numbers, `"0x..."` strings, or
/// names from `SeccompConstants.values` joined with `|`.
///
/// A rule on a syscall that `allow` lists is an *exception*: it denies some argument values of an
/// otherwise allowed call (ioctl TIOCSTI). libseccomp lets an unconditional allow swallow any
/// conditional rule on the same syscall, so the compiler turns the allow into its complement;
/// that is only possible for single `==`/`masked==` conditions sharing one argument and mask.
extension SeccompProfile {
    static func readRules(_ reader: JSONReader, seen: SeenSyscalls) throws(SpecError) -> [ArgumentRule] {
        var rules: [ArgumentRule] = []
        var exceptionShapes: [String: (argument: Int, mask: UInt64, node: Int)] = [:]
        let entries: [JSONReader]
        do { entries = try reader.array() } catch { throw SpecError(error) }
        for entry in entries {
            let rule = try readRule(entry, seen: seen)
            if seen.isAllowed(rule.syscall.name) {
                try checkException(rule, entry, seen: seen, shapes: &exceptionShapes)
            }
            rules.append(rule)
        }
        return rules
    }

    static func readRule(_ entry: JSONReader, seen: SeenSyscalls) throws(SpecError) -> ArgumentRule {
        let object: JSONObjectReader
        let syscallReader: JSONReader, whenReader: JSONReader
        do {
            object = try entry.object(keys: ["syscall", "action", "errno", "when", "comment"])
            syscallReader = try object.required("syscall")
            whenReader = try object.required("when")
        } catch { throw SpecError(error) }
        let syscall = try SeenSyscalls.syscall(syscallReader)
        if !seen.isAllowed(syscall.name), let place = seen.place(of: syscall.name) {
            throw syscallReader.specError("\(syscall.name) is already given a fixed action at \(place), so this rule could never apply")
        }
        let action: Action
        switch (object.optional("action"), object.optional("errno")) {
        case (let named?, nil): action = try readAction(named)
        case (nil, let errno?): action = .errno(try readErrno(errno))
        default: throw entry.specError("a rule needs exactly one of \"action\" and \"errno\"", code: .schema)
        }
        _ = try object.optional("comment")?.text(allowEmpty: true)
        let when: [JSONReader]
        do { when = try whenReader.array() } catch { throw SpecError(error) }
        guard !when.isEmpty else { throw entry.specError("\"when\" is empty; list the syscall under \"allow\" or \"deny\" instead") }
        var conditions: [Condition] = []
        for condition in when {
            let parsed = try readCondition(condition)
            if conditions.contains(where: { $0.argument == parsed.argument }) {
                throw condition.specError("argument \(parsed.argument) is already compared in this rule; use a second rule")
            }
            conditions.append(parsed)
        }
        return ArgumentRule(syscall: syscall, action: action, conditions: conditions)
    }

    /// An exception must deny, compare one argument with == or masked==, and agree with the other
    /// exceptions of its syscall on argument and mask (what the complement construction needs).
    static func checkException(_ rule: ArgumentRule, _ entry: JSONReader, seen: SeenSyscalls,
                               shapes: inout [String: (argument: Int, mask: UInt64, node: Int)]) throws(SpecError) {
        let name = rule.syscall.name
        guard rule.action != .allow else {
            throw entry.specError("\(name) is already allowed unconditionally at \(seen.place(of: name) ?? "allow"); an allow rule adds nothing")
        }
        guard rule.conditions.count == 1, let only = rule.conditions.first, only.op == .equal || only.op == .maskedEqual else {
            throw entry.specError("an exception to an allowed syscall takes exactly one == or masked== condition")
        }
        if let shape = shapes[name], shape.argument != only.argument || shape.mask != only.mask {
            let other = entry.document.path(ofNode: shape.node)
            throw entry.specError("exceptions for \(name) must compare the same argument with the same mask as \(other)")
        }
        shapes[name] = (only.argument, only.mask, entry.node)
    }

    static func readCondition(_ reader: JSONReader) throws(SpecError) -> Condition {
        let object: JSONObjectReader
        do { object = try reader.object(keys: ["arg", "op", "value", "mask"]) } catch { throw SpecError(error) }
        let argReader: JSONReader, opReader: JSONReader, valueReader: JSONReader
        do {
            argReader = try object.required("arg"); opReader = try object.required("op"); valueReader = try object.required("value")
        } catch { throw SpecError(error) }
        let argument = try argReader.count(in: 0...5)
        let opText = try opReader.text()
        guard let op = Condition.Operator(rawValue: opText) else {
            let all = Condition.Operator.allCases.map(\.rawValue).joined(separator: " ")
            throw opReader.specError("unknown operator \"\(opText)\"; use one of: \(all)")
        }
        let value = try readArgumentValue(valueReader)
        var mask = UInt64.max
        if let maskReader = object.optional("mask") {
            guard op == .maskedEqual else { throw maskReader.specError("\"mask\" only applies to the masked== operator") }
            mask = try readArgumentValue(maskReader)
            if value & ~mask != 0 { throw valueReader.specError("value has bits outside the mask, so the rule could never match") }
        } else if op == .maskedEqual {
            throw reader.specError("the masked== operator needs a \"mask\"", code: .schema)
        }
        return Condition(argument: argument, op: op, value: value, mask: mask)
    }

    static func readArgumentValue(_ reader: JSONReader) throws(SpecError) -> UInt64 {
        if case .number(let number) = reader.value {
            guard number.isInteger, let value = number.uint64 else {
                throw reader.specError("\(number.literal) is not an unsigned 64-bit integer")
            }
            return value
        }
        let text = try reader.text()
        switch SeccompConstants.resolveValue(text) {
        case .success(let value): return value
        case .failure(let part):
            var message = "unknown constant \"\(part)\""
            if let hint = Spelling.suggestion(for: part, among: Array(SeccompConstants.values.keys)) { message += "; did you mean \"\(hint)\"?" }
            throw reader.specError(message)
        }
    }
}
