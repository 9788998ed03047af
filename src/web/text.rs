//! Turning organisers' plain text into safe HTML: paragraphs, line breaks and links,
//! nothing else. Everything is escaped first; only what this module writes is markup.

use std::fmt::Write;

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

/// Plain text with paragraphs (blank lines) and line breaks; `http(s)://` links become
/// links that open no door (`rel="nofollow ugc noopener"`).
pub fn description_html(text: &str) -> String {
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut html = String::new();
    for paragraph in normalised
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        html.push_str("<p>");
        for (i, line) in paragraph.lines().enumerate() {
            if i > 0 {
                html.push_str("<br>\n");
            }
            linkify_line(line, &mut html);
        }
        html.push_str("</p>\n");
    }
    html
}

fn linkify_line(line: &str, out: &mut String) {
    let mut rest = line;
    while let Some(start) = find_link_start(rest) {
        out.push_str(&escape_html(&rest[..start]));
        let tail = &rest[start..];
        let mut end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"'))
            .unwrap_or(tail.len());
        // A full stop or bracket after a link belongs to the sentence.
        while end > 0 && tail[..end].ends_with(['.', ',', ';', ':', '!', '?', ')', '\'']) {
            end -= 1;
        }
        let url = &tail[..end];
        if url.len() <= "https://".len() {
            out.push_str(&escape_html(&tail[..end.max(1)]));
            rest = &tail[end.max(1)..];
            continue;
        }
        let _ = write!(
            out,
            "<a href=\"{0}\" rel=\"nofollow ugc noopener\">{0}</a>",
            escape_html(url)
        );
        rest = &tail[end..];
    }
    out.push_str(&escape_html(rest));
}

fn find_link_start(text: &str) -> Option<usize> {
    let http = text.find("http://");
    let https = text.find("https://");
    match (http, https) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Makes JSON safe inside `<script type="application/ld+json">`: no `</script>`, no
/// `<!--`, and no line separators that old parsers choke on.
pub fn json_for_script(value: &serde_json::Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_line_breaks_are_kept() {
        assert_eq!(
            description_html("One\ntwo\n\n\nThree"),
            "<p>One<br>\ntwo</p>\n<p>Three</p>\n"
        );
    }

    #[test]
    fn links_become_links_and_nothing_else_is_markup() {
        let html = description_html("See https://example.org/a?b=1&c=2. <b>bold</b>");
        assert_eq!(
            html,
            "<p>See <a href=\"https://example.org/a?b=1&amp;c=2\" rel=\"nofollow ugc noopener\">https://example.org/a?b=1&amp;c=2</a>. &lt;b&gt;bold&lt;/b&gt;</p>\n"
        );
    }

    #[test]
    fn hostile_text_stays_text() {
        let html = description_html(
            "\"><img src=x onerror=alert(1)> javascript:alert(1) http://\"onmouseover=x",
        );
        assert!(!html.contains("<img"));
        assert!(!html.contains("href=\"javascript"));
        assert!(!html.contains("\"onmouseover"));
    }

    #[test]
    fn json_cannot_close_its_script_element() {
        let v = serde_json::json!({"name": "</script><script>alert(1)</script>"});
        let s = json_for_script(&v);
        assert!(!s.contains("</script"));
        let back: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(back, v);
    }
}
