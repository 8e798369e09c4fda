//! XML escaping for JUnit, shared by every hand-written XML output.

/// Escapes `text` for an XML 1.0 attribute value (either quote style).
/// Characters XML 1.0 cannot carry at all, even as references (most C0 controls, U+FFFE,
/// U+FFFF), become U+FFFD so that a hostile response body cannot break the document.
pub fn xml(text: &str) -> String {
    escape(text, true)
}

/// Escapes `text` for element content, where line breaks and tabs stay readable.
pub fn xml_text(text: &str) -> String {
    escape(text, false)
}

fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' if !attribute => out.push(c),
            // Tab, LF and CR are legal but attribute normalisation would fold them to spaces;
            // a raw CR would be folded into LF by any parser, even in content.
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

/// XML 1.0 `Char` production (surrogates cannot occur in a Rust `char`).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_characters_become_references() {
        assert_eq!(
            xml(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;"
        );
    }

    #[test]
    fn illegal_characters_are_replaced_and_whitespace_kept() {
        assert_eq!(xml("a\u{0}b\u{1b}c\u{FFFF}"), "a\u{FFFD}b\u{FFFD}c\u{FFFD}");
        assert_eq!(xml("l1\nl2\tx\r"), "l1&#10;l2&#9;x&#13;");
        assert_eq!(xml("ünï 😀"), "ünï 😀");
        assert_eq!(xml_text("l1\nl2\tx\r<"), "l1\nl2\tx&#13;&lt;");
    }

    proptest::proptest! {
        #[test]
        fn escaped_text_has_no_raw_markup(s in "\\PC*|[\\x00-\\x1f<>&\"']*") {
            let e = xml(&s);
            proptest::prop_assert!(!e.contains('<') && !e.contains('>') && !e.contains('"'));
            proptest::prop_assert!(e.chars().all(|c| c >= ' ' && is_xml_char(c)));
            // Every '&' starts one of our references.
            for (i, _) in e.match_indices('&') {
                let rest = &e[i..];
                proptest::prop_assert!(
                    ["&amp;", "&lt;", "&gt;", "&quot;", "&apos;", "&#9;", "&#10;", "&#13;"]
                        .iter()
                        .any(|r| rest.starts_with(r))
                );
            }
        }
    }
}
