//! Turning the HTML that some feeds put in DESCRIPTION or X-ALT-DESC into plain text.
//!
//! This is not an HTML parser: it reads just enough markup to keep the text,
//! the paragraph breaks and the links readable, and never fails on broken
//! markup. Every slice it takes starts and ends at an ASCII byte (`<`, `>`,
//! `&`, `;`, a quote or whitespace) or the end of the string, so it always
//! falls on a char boundary.

use std::borrow::Cow;

/// Tags whose presence marks a text as HTML; plain text rarely contains them.
const KNOWN_TAGS: &[&str] = &[
    "a",
    "b",
    "blockquote",
    "body",
    "br",
    "center",
    "code",
    "div",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "hr",
    "html",
    "i",
    "img",
    "li",
    "meta",
    "ol",
    "p",
    "pre",
    "small",
    "span",
    "strong",
    "style",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "title",
    "tr",
    "u",
    "ul",
];

/// Elements that end a line of their own.
const LINE_BLOCKS: &[&str] = &[
    "address",
    "article",
    "blockquote",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "footer",
    "header",
    "hr",
    "ol",
    "pre",
    "section",
    "table",
    "tr",
    "ul",
];

/// Elements that stand apart as paragraphs, with a blank line around them.
const PARAGRAPHS: &[&str] = &["h1", "h2", "h3", "h4", "h5", "h6", "p"];

/// True when `text` holds HTML markup such as `<p>`, `<br>`, `<a href=…>` or a closing tag.
///
/// Entities alone (`&amp;`) are not enough: plain text uses `&` too.
pub fn looks_like_html(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(offset) = bytes
        .get(from..)
        .and_then(|rest| rest.iter().position(|&b| b == b'<'))
    {
        from += offset + 1;
        let rest = bytes.get(from..).unwrap_or_default();
        let (closing, rest) = match rest.split_first() {
            Some((b'/', after)) => (true, after),
            _ => (false, rest),
        };
        let len = rest
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let Some(name) = rest.get(..len).filter(|n| !n.is_empty()) else {
            continue;
        };
        let ends_name = matches!(
            rest.get(len),
            Some(b'>' | b' ' | b'/' | b'\t' | b'\n' | b'\r')
        );
        if !ends_name {
            continue;
        }
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        if KNOWN_TAGS.contains(&name.as_str())
            || (closing
                && rest.get(len) == Some(&b'>')
                && name.starts_with(|c: char| c.is_ascii_alphabetic()))
        {
            return true;
        }
    }
    false
}

/// Converts HTML to plain text.
///
/// Scripts, styles and comments are dropped; paragraphs, line breaks, list
/// items (as `- item`) and other blocks become line breaks; `<a href>` links
/// become `label (URL)`, or just the URL when the label is the URL, keeping
/// only http, https and mailto targets; entities are decoded. Runs of spaces
/// are collapsed, no more than one blank line is kept in a row, and the result
/// is trimmed. Line breaks in the source count as spaces, as in a browser, so
/// check [`looks_like_html`] first.
pub fn to_text(html: &str) -> String {
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len());
    // Each open link: its kept target and where its label starts in `out`.
    let mut links: Vec<(Option<String>, usize)> = Vec::new();
    let last_gt = bytes.iter().rposition(|&b| b == b'>');
    let mut text_start = 0;
    let mut i = 0;
    while let Some(offset) = bytes
        .get(i..)
        .and_then(|rest| rest.iter().position(|&b| b == b'<'))
    {
        let lt = i + offset;
        // With no '>' left, no later '<' can start a tag either; stopping here
        // keeps a text full of '<' linear instead of quadratic.
        let comment = bytes.get(lt..).is_some_and(|r| r.starts_with(b"<!--"));
        if !comment && last_gt.is_none_or(|gt| gt < lt) {
            break;
        }
        let Some(tag) = parse_tag(html, lt) else {
            // A '<' that starts no tag is text.
            i = lt + 1;
            continue;
        };
        push_text(&mut out, html.get(text_start..lt).unwrap_or_default());
        let mut end = tag.end;
        match tag.kind {
            TagKind::Skip => {}
            TagKind::Element {
                ref name,
                closing,
                attrs,
            } => match name.as_str() {
                "script" | "style" if !closing => {
                    end = find_closing(html, tag.end, name).unwrap_or(html.len());
                }
                "head" | "title" if !closing => {
                    end = find_closing(html, tag.end, name).unwrap_or(tag.end);
                }
                "br" => out.push('\n'),
                "li" if !closing => {
                    line_break(&mut out);
                    out.push_str("- ");
                }
                "li" => line_break(&mut out),
                "td" | "th" => out.push(' '),
                "a" if !closing => {
                    let href = attribute(attrs, "href")
                        .map(|raw| decode_entities(raw).trim().to_string())
                        .filter(|url| kept_link(url));
                    links.push((href, out.len()));
                }
                "a" => {
                    if let Some((href, start)) = links.pop() {
                        close_link(&mut out, href, start);
                    }
                }
                other if PARAGRAPHS.contains(&other) => {
                    line_break(&mut out);
                    out.push('\n');
                }
                other if LINE_BLOCKS.contains(&other) => line_break(&mut out),
                _ => {}
            },
        }
        i = end;
        text_start = end;
    }
    push_text(&mut out, html.get(text_start..).unwrap_or_default());
    tidy(&out)
}

/// Starts a new line unless one was just started: `</li><li>` or
/// `</div><div>` must not leave a blank line between them.
fn line_break(out: &mut String) {
    let trimmed = out.trim_end_matches(' ');
    if !trimmed.is_empty() && !trimmed.ends_with('\n') {
        out.push('\n');
    }
}

enum TagKind<'a> {
    /// A comment, doctype or processing instruction.
    Skip,
    Element {
        /// Lower-cased.
        name: String,
        closing: bool,
        /// The text between the name and the closing `>`.
        attrs: &'a str,
    },
}

struct Tag<'a> {
    kind: TagKind<'a>,
    /// Index just after the tag.
    end: usize,
}

/// The tag starting at the `<` at `lt`, or `None` if that `<` is plain text.
fn parse_tag(html: &str, lt: usize) -> Option<Tag<'_>> {
    let bytes = html.as_bytes();
    let rest = bytes.get(lt..)?;
    if rest.starts_with(b"<!--") {
        let end = find_bytes(bytes, lt + 4, b"-->").map_or(html.len(), |at| at + 3);
        return Some(Tag {
            kind: TagKind::Skip,
            end,
        });
    }
    if rest.starts_with(b"<!") || rest.starts_with(b"<?") {
        let gt = find_bytes(bytes, lt + 2, b">")?;
        return Some(Tag {
            kind: TagKind::Skip,
            end: gt + 1,
        });
    }
    let closing = rest.get(1) == Some(&b'/');
    let name_start = lt + if closing { 2 } else { 1 };
    let after = bytes.get(name_start..)?;
    if !after.first().is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let name_len = after
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let name_end = name_start + name_len;
    let gt = find_tag_end(bytes, name_end)?;
    Some(Tag {
        kind: TagKind::Element {
            name: html.get(name_start..name_end)?.to_ascii_lowercase(),
            closing,
            attrs: html.get(name_end..gt)?,
        },
        end: gt + 1,
    })
}

/// How far to look for the end of a quoted attribute value before deciding
/// the quote is broken; unbounded, broken quotes would make reading quadratic.
const MAX_QUOTED_SCAN: usize = 512;

/// The `>` ending a tag, skipping over quoted attribute values; when a quote
/// is never closed, the first `>` after all.
fn find_tag_end(bytes: &[u8], from: usize) -> Option<usize> {
    let mut quote: Option<u8> = None;
    let mut previous = b' ';
    let window = bytes.get(from..)?;
    let window = window.get(..MAX_QUOTED_SCAN).unwrap_or(window);
    for (offset, &b) in window.iter().enumerate() {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            // Only a quote opening a value counts, not an apostrophe in `<a title=it's>`.
            None if (b == b'"' || b == b'\'') && (previous == b'=' || previous == b' ') => {
                quote = Some(b)
            }
            None if b == b'>' => return Some(from + offset),
            None => {}
        }
        if !b.is_ascii_whitespace() || quote.is_some() {
            previous = b;
        }
    }
    find_bytes(bytes, from, b">")
}

fn find_bytes(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|at| from + at)
}

/// The index just after `</name …>` at or after `from`, ignoring case.
fn find_closing(html: &str, from: usize, name: &str) -> Option<usize> {
    let bytes = html.as_bytes();
    let mut at = from;
    loop {
        let lt = find_bytes(bytes, at, b"</")?;
        let candidate = bytes.get(lt + 2..lt + 2 + name.len());
        let boundary = bytes
            .get(lt + 2 + name.len())
            .is_none_or(|b| !b.is_ascii_alphanumeric());
        if candidate.is_some_and(|c| c.eq_ignore_ascii_case(name.as_bytes())) && boundary {
            return Some(find_bytes(bytes, lt, b">").map_or(html.len(), |gt| gt + 1));
        }
        at = lt + 2;
    }
}

/// The raw value of attribute `wanted` (case-insensitive) in a tag's attribute text.
fn attribute<'a>(attrs: &'a str, wanted: &str) -> Option<&'a str> {
    let bytes = attrs.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'/')
        {
            i += 1;
        }
        let name_start = i;
        while bytes
            .get(i)
            .is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'/'))
        {
            i += 1;
        }
        let name = attrs.get(name_start..i)?;
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        let mut value = "";
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
                i += 1;
            }
            match bytes.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    let start = i + 1;
                    let len = bytes
                        .get(start..)?
                        .iter()
                        .position(|&b| b == q)
                        .unwrap_or(bytes.len() - start);
                    value = attrs.get(start..start + len)?;
                    i = start + len + 1;
                }
                _ => {
                    let start = i;
                    while bytes.get(i).is_some_and(|b| !b.is_ascii_whitespace()) {
                        i += 1;
                    }
                    value = attrs.get(start..i)?;
                }
            }
        }
        if name.eq_ignore_ascii_case(wanted) {
            return Some(value);
        }
        if i == name_start {
            // Nothing consumed: a stray character such as '='.
            i += 1;
        }
    }
    None
}

fn kept_link(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    ["http://", "https://", "mailto:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme) && lower.len() > scheme.len())
}

/// Ends a link whose label began at `start` in `out`.
fn close_link(out: &mut String, href: Option<String>, start: usize) {
    let Some(url) = href else {
        return;
    };
    let label = out.get(start..).unwrap_or_default().trim();
    if label.is_empty() || same_target(label, &url) {
        if out.is_char_boundary(start) {
            out.truncate(start);
        }
        // The link may have been the end of a word: keep it apart.
        if !out.ends_with([' ', '\n']) && !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&url);
    } else {
        out.push_str(" (");
        out.push_str(&url);
        out.push(')');
    }
}

/// Whether a link's label just repeats its target, e.g. `example.org` for
/// `https://example.org/` or `a@b.org` for `mailto:a@b.org`.
fn same_target(label: &str, url: &str) -> bool {
    fn bare(s: &str) -> String {
        let lower = s.trim().to_lowercase();
        let mut rest = lower.as_str();
        for prefix in ["mailto:", "https://", "http://", "www."] {
            rest = rest.strip_prefix(prefix).unwrap_or(rest);
        }
        rest.trim_end_matches('/').to_string()
    }
    bare(label) == bare(url)
}

/// Appends text, with entities decoded and source line breaks as spaces.
fn push_text(out: &mut String, raw: &str) {
    if raw.is_empty() {
        return;
    }
    for c in decode_entities(raw).chars() {
        out.push(if c.is_whitespace() { ' ' } else { c });
    }
}

/// Decodes named (`&eacute;`), decimal (`&#233;`) and hex (`&#xE9;`) references.
/// Anything that is not a complete reference is left as written.
fn decode_entities(raw: &str) -> Cow<'_, str> {
    if !raw.contains('&') {
        return Cow::Borrowed(raw);
    }
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut copied = 0;
    let mut i = 0;
    while let Some(offset) = bytes
        .get(i..)
        .and_then(|rest| rest.iter().position(|&b| b == b'&'))
    {
        let amp = i + offset;
        i = amp + 1;
        // The longest HTML 4 name is 8 characters; numbers fit in 10.
        let Some(len) = bytes
            .get(amp + 1..)
            .and_then(|rest| rest.iter().take(12).position(|&b| b == b';'))
        else {
            continue;
        };
        let Some(c) = raw.get(amp + 1..amp + 1 + len).and_then(reference) else {
            continue;
        };
        out.push_str(raw.get(copied..amp).unwrap_or_default());
        out.push(c);
        i = amp + len + 2;
        copied = i;
    }
    out.push_str(raw.get(copied..).unwrap_or_default());
    Cow::Owned(out)
}

/// The character of a reference's body (`amp`, `#233`, `#xE9`).
fn reference(body: &str) -> Option<char> {
    if let Some(number) = body.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None if number.bytes().all(|b| b.is_ascii_digit()) => number.parse().ok()?,
            None => return None,
        };
        // Browsers show U+FFFD for NUL and surrogates rather than drop them.
        return Some(match code {
            0 => char::REPLACEMENT_CHARACTER,
            _ => char::from_u32(code).unwrap_or(char::REPLACEMENT_CHARACTER),
        });
    }
    let index = ENTITIES
        .binary_search_by(|(name, _)| (*name).cmp(body))
        .ok()?;
    ENTITIES.get(index).map(|&(_, c)| c)
}

/// Collapses spaces, trims every line, keeps at most one blank line in a row.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = false;
    for line in text.split('\n') {
        let mut words = line.split_whitespace().peekable();
        if words.peek().is_none() {
            blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
            if blank {
                out.push('\n');
            }
        }
        blank = false;
        for (n, word) in words.enumerate() {
            if n > 0 {
                out.push(' ');
            }
            out.push_str(word);
        }
    }
    out
}

// HTML 4 named character references (Python's html.entities.name2codepoint) plus
// XHTML's `apos`,
// sorted by name for binary search. Names are case-sensitive: `Eacute` is not `eacute`.
static ENTITIES: &[(&str, char)] = &[
    ("AElig", '\u{00C6}'),
    ("Aacute", '\u{00C1}'),
    ("Acirc", '\u{00C2}'),
    ("Agrave", '\u{00C0}'),
    ("Alpha", '\u{0391}'),
    ("Aring", '\u{00C5}'),
    ("Atilde", '\u{00C3}'),
    ("Auml", '\u{00C4}'),
    ("Beta", '\u{0392}'),
    ("Ccedil", '\u{00C7}'),
    ("Chi", '\u{03A7}'),
    ("Dagger", '\u{2021}'),
    ("Delta", '\u{0394}'),
    ("ETH", '\u{00D0}'),
    ("Eacute", '\u{00C9}'),
    ("Ecirc", '\u{00CA}'),
    ("Egrave", '\u{00C8}'),
    ("Epsilon", '\u{0395}'),
    ("Eta", '\u{0397}'),
    ("Euml", '\u{00CB}'),
    ("Gamma", '\u{0393}'),
    ("Iacute", '\u{00CD}'),
    ("Icirc", '\u{00CE}'),
    ("Igrave", '\u{00CC}'),
    ("Iota", '\u{0399}'),
    ("Iuml", '\u{00CF}'),
    ("Kappa", '\u{039A}'),
    ("Lambda", '\u{039B}'),
    ("Mu", '\u{039C}'),
    ("Ntilde", '\u{00D1}'),
    ("Nu", '\u{039D}'),
    ("OElig", '\u{0152}'),
    ("Oacute", '\u{00D3}'),
    ("Ocirc", '\u{00D4}'),
    ("Ograve", '\u{00D2}'),
    ("Omega", '\u{03A9}'),
    ("Omicron", '\u{039F}'),
    ("Oslash", '\u{00D8}'),
    ("Otilde", '\u{00D5}'),
    ("Ouml", '\u{00D6}'),
    ("Phi", '\u{03A6}'),
    ("Pi", '\u{03A0}'),
    ("Prime", '\u{2033}'),
    ("Psi", '\u{03A8}'),
    ("Rho", '\u{03A1}'),
    ("Scaron", '\u{0160}'),
    ("Sigma", '\u{03A3}'),
    ("THORN", '\u{00DE}'),
    ("Tau", '\u{03A4}'),
    ("Theta", '\u{0398}'),
    ("Uacute", '\u{00DA}'),
    ("Ucirc", '\u{00DB}'),
    ("Ugrave", '\u{00D9}'),
    ("Upsilon", '\u{03A5}'),
    ("Uuml", '\u{00DC}'),
    ("Xi", '\u{039E}'),
    ("Yacute", '\u{00DD}'),
    ("Yuml", '\u{0178}'),
    ("Zeta", '\u{0396}'),
    ("aacute", '\u{00E1}'),
    ("acirc", '\u{00E2}'),
    ("acute", '\u{00B4}'),
    ("aelig", '\u{00E6}'),
    ("agrave", '\u{00E0}'),
    ("alefsym", '\u{2135}'),
    ("alpha", '\u{03B1}'),
    ("amp", '\u{0026}'),
    ("and", '\u{2227}'),
    ("ang", '\u{2220}'),
    ("apos", '\u{0027}'),
    ("aring", '\u{00E5}'),
    ("asymp", '\u{2248}'),
    ("atilde", '\u{00E3}'),
    ("auml", '\u{00E4}'),
    ("bdquo", '\u{201E}'),
    ("beta", '\u{03B2}'),
    ("brvbar", '\u{00A6}'),
    ("bull", '\u{2022}'),
    ("cap", '\u{2229}'),
    ("ccedil", '\u{00E7}'),
    ("cedil", '\u{00B8}'),
    ("cent", '\u{00A2}'),
    ("chi", '\u{03C7}'),
    ("circ", '\u{02C6}'),
    ("clubs", '\u{2663}'),
    ("cong", '\u{2245}'),
    ("copy", '\u{00A9}'),
    ("crarr", '\u{21B5}'),
    ("cup", '\u{222A}'),
    ("curren", '\u{00A4}'),
    ("dArr", '\u{21D3}'),
    ("dagger", '\u{2020}'),
    ("darr", '\u{2193}'),
    ("deg", '\u{00B0}'),
    ("delta", '\u{03B4}'),
    ("diams", '\u{2666}'),
    ("divide", '\u{00F7}'),
    ("eacute", '\u{00E9}'),
    ("ecirc", '\u{00EA}'),
    ("egrave", '\u{00E8}'),
    ("empty", '\u{2205}'),
    ("emsp", '\u{2003}'),
    ("ensp", '\u{2002}'),
    ("epsilon", '\u{03B5}'),
    ("equiv", '\u{2261}'),
    ("eta", '\u{03B7}'),
    ("eth", '\u{00F0}'),
    ("euml", '\u{00EB}'),
    ("euro", '\u{20AC}'),
    ("exist", '\u{2203}'),
    ("fnof", '\u{0192}'),
    ("forall", '\u{2200}'),
    ("frac12", '\u{00BD}'),
    ("frac14", '\u{00BC}'),
    ("frac34", '\u{00BE}'),
    ("frasl", '\u{2044}'),
    ("gamma", '\u{03B3}'),
    ("ge", '\u{2265}'),
    ("gt", '\u{003E}'),
    ("hArr", '\u{21D4}'),
    ("harr", '\u{2194}'),
    ("hearts", '\u{2665}'),
    ("hellip", '\u{2026}'),
    ("iacute", '\u{00ED}'),
    ("icirc", '\u{00EE}'),
    ("iexcl", '\u{00A1}'),
    ("igrave", '\u{00EC}'),
    ("image", '\u{2111}'),
    ("infin", '\u{221E}'),
    ("int", '\u{222B}'),
    ("iota", '\u{03B9}'),
    ("iquest", '\u{00BF}'),
    ("isin", '\u{2208}'),
    ("iuml", '\u{00EF}'),
    ("kappa", '\u{03BA}'),
    ("lArr", '\u{21D0}'),
    ("lambda", '\u{03BB}'),
    ("lang", '\u{2329}'),
    ("laquo", '\u{00AB}'),
    ("larr", '\u{2190}'),
    ("lceil", '\u{2308}'),
    ("ldquo", '\u{201C}'),
    ("le", '\u{2264}'),
    ("lfloor", '\u{230A}'),
    ("lowast", '\u{2217}'),
    ("loz", '\u{25CA}'),
    ("lrm", '\u{200E}'),
    ("lsaquo", '\u{2039}'),
    ("lsquo", '\u{2018}'),
    ("lt", '\u{003C}'),
    ("macr", '\u{00AF}'),
    ("mdash", '\u{2014}'),
    ("micro", '\u{00B5}'),
    ("middot", '\u{00B7}'),
    ("minus", '\u{2212}'),
    ("mu", '\u{03BC}'),
    ("nabla", '\u{2207}'),
    ("nbsp", '\u{00A0}'),
    ("ndash", '\u{2013}'),
    ("ne", '\u{2260}'),
    ("ni", '\u{220B}'),
    ("not", '\u{00AC}'),
    ("notin", '\u{2209}'),
    ("nsub", '\u{2284}'),
    ("ntilde", '\u{00F1}'),
    ("nu", '\u{03BD}'),
    ("oacute", '\u{00F3}'),
    ("ocirc", '\u{00F4}'),
    ("oelig", '\u{0153}'),
    ("ograve", '\u{00F2}'),
    ("oline", '\u{203E}'),
    ("omega", '\u{03C9}'),
    ("omicron", '\u{03BF}'),
    ("oplus", '\u{2295}'),
    ("or", '\u{2228}'),
    ("ordf", '\u{00AA}'),
    ("ordm", '\u{00BA}'),
    ("oslash", '\u{00F8}'),
    ("otilde", '\u{00F5}'),
    ("otimes", '\u{2297}'),
    ("ouml", '\u{00F6}'),
    ("para", '\u{00B6}'),
    ("part", '\u{2202}'),
    ("permil", '\u{2030}'),
    ("perp", '\u{22A5}'),
    ("phi", '\u{03C6}'),
    ("pi", '\u{03C0}'),
    ("piv", '\u{03D6}'),
    ("plusmn", '\u{00B1}'),
    ("pound", '\u{00A3}'),
    ("prime", '\u{2032}'),
    ("prod", '\u{220F}'),
    ("prop", '\u{221D}'),
    ("psi", '\u{03C8}'),
    ("quot", '\u{0022}'),
    ("rArr", '\u{21D2}'),
    ("radic", '\u{221A}'),
    ("rang", '\u{232A}'),
    ("raquo", '\u{00BB}'),
    ("rarr", '\u{2192}'),
    ("rceil", '\u{2309}'),
    ("rdquo", '\u{201D}'),
    ("real", '\u{211C}'),
    ("reg", '\u{00AE}'),
    ("rfloor", '\u{230B}'),
    ("rho", '\u{03C1}'),
    ("rlm", '\u{200F}'),
    ("rsaquo", '\u{203A}'),
    ("rsquo", '\u{2019}'),
    ("sbquo", '\u{201A}'),
    ("scaron", '\u{0161}'),
    ("sdot", '\u{22C5}'),
    ("sect", '\u{00A7}'),
    ("shy", '\u{00AD}'),
    ("sigma", '\u{03C3}'),
    ("sigmaf", '\u{03C2}'),
    ("sim", '\u{223C}'),
    ("spades", '\u{2660}'),
    ("sub", '\u{2282}'),
    ("sube", '\u{2286}'),
    ("sum", '\u{2211}'),
    ("sup", '\u{2283}'),
    ("sup1", '\u{00B9}'),
    ("sup2", '\u{00B2}'),
    ("sup3", '\u{00B3}'),
    ("supe", '\u{2287}'),
    ("szlig", '\u{00DF}'),
    ("tau", '\u{03C4}'),
    ("there4", '\u{2234}'),
    ("theta", '\u{03B8}'),
    ("thetasym", '\u{03D1}'),
    ("thinsp", '\u{2009}'),
    ("thorn", '\u{00FE}'),
    ("tilde", '\u{02DC}'),
    ("times", '\u{00D7}'),
    ("trade", '\u{2122}'),
    ("uArr", '\u{21D1}'),
    ("uacute", '\u{00FA}'),
    ("uarr", '\u{2191}'),
    ("ucirc", '\u{00FB}'),
    ("ugrave", '\u{00F9}'),
    ("uml", '\u{00A8}'),
    ("upsih", '\u{03D2}'),
    ("upsilon", '\u{03C5}'),
    ("uuml", '\u{00FC}'),
    ("weierp", '\u{2118}'),
    ("xi", '\u{03BE}'),
    ("yacute", '\u{00FD}'),
    ("yen", '\u{00A5}'),
    ("yuml", '\u{00FF}'),
    ("zeta", '\u{03B6}'),
    ("zwj", '\u{200D}'),
    ("zwnj", '\u{200C}'),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_table_is_sorted() {
        for pair in ENTITIES.windows(2) {
            assert!(pair[0].0 < pair[1].0, "{:?}", pair);
        }
    }

    #[test]
    fn detects_html() {
        for html in [
            "<p>Hello</p>",
            "Line<br>break",
            "Line<br/>break",
            "See <a href=\"https://x.org\">here</a>",
            "<b>bold</b>",
            "text</custom>",
            "<DIV class=x>y</DIV>",
        ] {
            assert!(looks_like_html(html), "{html}");
        }
        for text in [
            "Tom & Jerry &amp; friends",
            "1 < 2 and 3 > 2",
            "a<b",
            "<3 love",
            "Email: <jane@example.org>",
            "",
            "<",
            "</",
            "<é>",
        ] {
            assert!(!looks_like_html(text), "{text}");
        }
    }

    #[test]
    fn links() {
        assert_eq!(
            to_text("Tickets <a href=\"https://example.org/t?a=1&amp;b=2\">here</a>."),
            "Tickets here (https://example.org/t?a=1&b=2)."
        );
        assert_eq!(
            to_text("<a href='https://example.org/'>https://example.org/</a>"),
            "https://example.org/"
        );
        assert_eq!(
            to_text("Mail <A HREF=mailto:jane@example.org>jane@example.org</A>"),
            "Mail mailto:jane@example.org"
        );
        assert_eq!(
            to_text("<a href=\"javascript:alert(1)\">click</a> <a href=\"/relative\">rel</a>"),
            "click rel"
        );
        assert_eq!(
            to_text("Go<a href=\"http://x.org\"></a>!"),
            "Go http://x.org!"
        );
        assert_eq!(
            to_text("<a title=\"a > b\" href=\"https://x.org\"><b>Big</b> deal</a>"),
            "Big deal (https://x.org)"
        );
    }

    #[test]
    fn entities() {
        assert_eq!(
            to_text(
                "Caf&eacute; &amp; B&uuml;cher &ndash; 5&euro; &hellip; &rsquo;&lsquo;&rdquo;&ldquo; &copy; &mdash; &lt;tag&gt; &quot;q&quot; &apos;"
            ),
            "Café & Bücher – 5€ … ’‘”“ © — <tag> \"q\" '"
        );
        assert_eq!(
            to_text("a&nbsp;&nbsp;b &#233; &#xE9; &#XE9; &#0; &#xD800; &#x110000;"),
            "a b é é é \u{FFFD} \u{FFFD} \u{FFFD}"
        );
        assert_eq!(
            to_text("&unknown; & &amp &#; &#x; &#12a; AT&T"),
            "&unknown; & &amp &#; &#x; &#12a; AT&T"
        );
        assert_eq!(to_text("&Eacute;t&eacute;"), "Été");
    }

    #[test]
    fn blocks_lists_and_whitespace() {
        let html = "<h1>Jazz   night</h1>\n<p>Doors open\n   at 7.</p><p>Line one<br>Line two<br><br><br><br>Line three</p>\
                    <ul><li>Bring a friend</li><li>Free</li></ul><div>End</div><table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>";
        assert_eq!(
            to_text(html),
            "Jazz night\n\nDoors open at 7.\n\nLine one\nLine two\n\nLine three\n\n- Bring a friend\n- Free\nEnd\na b\nc"
        );
    }

    #[test]
    fn drops_scripts_styles_and_comments() {
        let html = "<html><head><title>T</title><style>p { color: red; }</style></head><body>\
                    <!-- a comment with <p> inside --><script type=\"text/javascript\">if (a < b) { x = '</p>'; }</script>\
                    <p>Visible</p><SCRIPT>bad()</SCRIPT >ok<!DOCTYPE html></body></html>";
        assert_eq!(to_text(html), "Visible\n\nok");
        assert_eq!(to_text("before<script>never closed"), "before");
        assert_eq!(to_text("before<!-- never closed"), "before");
    }

    #[test]
    fn broken_markup_never_panics() {
        let samples = [
            "<",
            "<<<",
            "a < b > c",
            "<p",
            "<p class=\"x",
            "<a href=\"https://x.org",
            "</a>",
            "<a href=https://x.org>x",
            "<a href=\"https://x.org\"><a href=\"http://y.org\">y</a>x</a>",
            "<br",
            "&",
            "&#",
            "&#x",
            "<!",
            "<!-",
            "<?xml",
            "é<é>é</é>",
            "<p>é&eacute",
            "<a href='mailto:'>m</a>",
            "<a href>x</a>",
            "<a =x href = \"https://x.org\" >x</a>",
            "<td><li><h7>",
            "\u{0}<p>\u{0}",
            "<a href=\"https://ä.org\">ä</a>",
        ];
        for sample in samples {
            let _ = to_text(sample);
            let _ = looks_like_html(sample);
        }
        assert_eq!(to_text("a < b > c"), "a < b > c");
        assert_eq!(to_text("<p>unclosed <b>bold"), "unclosed bold");
        assert_eq!(to_text("x <p class=\"x"), "x <p class=\"x");
        assert_eq!(to_text("<a href=https://x.org>x"), "x");
        assert_eq!(
            to_text("<a =x href = \"https://x.org\" >x</a>"),
            "x (https://x.org)"
        );
        assert_eq!(
            to_text("<a href=\"https://ä.org\">ä</a>"),
            "ä (https://ä.org)"
        );
        assert_eq!(to_text("   "), "");
    }
}
