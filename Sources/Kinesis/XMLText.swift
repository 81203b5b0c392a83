/// Reads the text of named elements out of the small XML documents STS and error pages
/// answer with. STS answers have a fixed shape and a handful of leaf elements, so a search
/// for `<Name>...</Name>` with entity decoding is all they need; this keeps the binary free
/// of libxml2, which FoundationXML would link.
enum XMLText {
    /// The decoded text of the first `<name>` element (attributes allowed), or nil.
    static func firstElement(_ name: String, in document: String) -> String? {
        var searchStart = document.startIndex
        while let open = document.range(of: "<" + name, range: searchStart..<document.endIndex) {
            guard open.upperBound < document.endIndex else { return nil }
            let next = document[open.upperBound]
            guard next == ">" || next == " " || next == "\t" || next == "\n" || next == "\r" || next == "/" else {
                searchStart = open.upperBound
                continue
            }
            guard let tagEnd = document[open.upperBound...].firstIndex(of: ">") else { return nil }
            if document[document.index(before: tagEnd)] == "/" { return "" }
            let contentStart = document.index(after: tagEnd)
            guard let close = document.range(of: "</" + name + ">", range: contentStart..<document.endIndex) else {
                return nil
            }
            return decodeEntities(document[contentStart..<close.lowerBound])
        }
        return nil
    }

    /// The text of a document with its tags removed and white space folded: the gist of an
    /// HTML error page.
    static func plainText(_ document: String) -> String {
        var out = ""
        var inTag = false
        var pendingSpace = false
        for character in document {
            if character == "<" {
                inTag = true
                pendingSpace = true
            } else if character == ">" {
                inTag = false
            } else if !inTag {
                if character.isWhitespace {
                    pendingSpace = true
                } else {
                    if pendingSpace, !out.isEmpty { out.append(" ") }
                    pendingSpace = false
                    out.append(character)
                }
            }
        }
        return decodeEntities(Substring(out))
    }

    /// Replaces the five named entities, numeric references and CDATA sections.
    static func decodeEntities(_ text: Substring) -> String {
        var text = text
        if text.hasPrefix("<![CDATA["), text.hasSuffix("]]>") {
            return String(text.dropFirst(9).dropLast(3))
        }
        guard text.contains("&") else { return String(text) }
        var out = ""
        while let amp = text.firstIndex(of: "&") {
            out += text[..<amp]
            let rest = text[text.index(after: amp)...]
            guard let semicolon = rest.prefix(12).firstIndex(of: ";") else {
                out.append("&")
                text = rest
                continue
            }
            let entity = rest[..<semicolon]
            var replacement: String?
            switch entity {
            case "amp": replacement = "&"
            case "lt": replacement = "<"
            case "gt": replacement = ">"
            case "quot": replacement = "\""
            case "apos": replacement = "'"
            default:
                if entity.hasPrefix("#x") || entity.hasPrefix("#X"), let value = UInt32(entity.dropFirst(2), radix: 16),
                    let scalar = Unicode.Scalar(value)
                {
                    replacement = String(Character(scalar))
                } else if entity.hasPrefix("#"), let value = UInt32(entity.dropFirst()), let scalar = Unicode.Scalar(value) {
                    replacement = String(Character(scalar))
                }
            }
            if let replacement {
                out += replacement
                text = rest[rest.index(after: semicolon)...]
            } else {
                out.append("&")
                text = rest
            }
        }
        out += text
        return out
    }
}
