/// Decoding of argument rules: `{"syscall": "clone", "action": "allow", "when": [{"arg": 0, "op": "masked==",
/// "mask": "CLONE_NEWUSER|...", "value": 0}]}`. Values and masks are numbers, `"0x..."` strings, or
/// names from `SeccompConstants.values` joined with `|`.
///
/// A rule on a syscall that `allow` lists is an *exception*: it denies some argument values of an
/// otherwise allowed call (ioctl TIOCSTI). libseccomp lets an unconditional allow swallow any
/// conditional rule on the same syscall, so the compiler turns the allow into its complement;
/// that is only possible for single `==`/`masked==` conditions sharing one argument and mask.
extension SeccompProfile {
    static func readRules(_ reader: JSONReader, seen: SeenSyscalls, allowed: Set<String>) throws(SpecError) -> [ArgumentRule] {
        var rules: [ArgumentRule] = []
        var exceptionShape: [String: (argument: Int, mask: UInt64, path: String)] = [:]
        let entries: [JSONReader]
        do { entries = try reader.array() } catch { throw SpecError(error) }
        for entry in entries {
            let object: JSONObjectReader
            do { object = try entry.object(keys: ["syscall", "action", "errno", "when", "comment"]) } catch { throw SpecError(error) }
            let syscallReader: JSONReader
            do { syscallReader = try object.required("syscall") } catch { throw SpecError(error) }
            var scratch = SeenSyscalls()
            let syscall = try scratch.claim(syscallReader)
            if let place = seen.place(of: syscall.name), !allowed.contains(syscall.name) {
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
            do { when = try object.required("when").array() } catch { throw SpecError(error) }
            guard !when.isEmpty else { throw entry.specError("\"when\" is empty; list the syscall under \"allow\" or \"deny\" instead") }
            var conditions: [Condition] = []
            for condition in when {
                let parsed = try readCondition(condition)
                if conditions.contains(where: { $0.argument == parsed.argument }) {
                    throw condition.specError("argument \(parsed.argument) is already compared in this rule; use a second rule")
                }
                conditions.append(parsed)
            }
            if allowed.contains(syscall.name) {
                guard action != .allow else {
                    throw entry.specError("\(syscall.name) is already allowed unconditionally at \(seen.place(of: syscall.name) ?? "allow"); an allow rule adds nothing")
                }
                guard conditions.count == 1, let only = conditions.first, only.op == .equal || only.op == .maskedEqual else {
                    throw entry.specError("an exception to an allowed syscall takes exactly one == or masked== condition")
                }
                if let shape = exceptionShape[syscall.name], shape.argument != only.argument || shape.mask != only.mask {
                    throw entry.specError("exceptions for \(syscall.name) must compare the same argument with the same mask as \(shape.path)")
                }
                exceptionShape[syscall.name] = (only.argument, only.mask, entry.path.description)
            }
            rules.append(ArgumentRule(syscall: syscall, action: action, conditions: conditions))
        }
        return rules
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
