//! Maps field paths of a RON scenario text to line/column positions.
//!
//! A tiny scanner, not a parser: it skips strings, char literals and comments (`//` line and nested
//! `/* */` block comments), tracks the nesting of `(`, `[` and `{`, and records every `name:` key of a
//! struct with its dotted path (`powder.nps.d50_um`) and every element of a list with an index
//! (`output.slice_fractions[1]`). Enum variant names and unkeyed parentheses are transparent, so
//! `gaps: Geometric(start_um: 250, ...)` yields `calender.gaps.start_um` and
//! `gaps: List([250, 200])` yields `calender.gaps[0]`, `calender.gaps[1]`.
//!
//! It never fails: on malformed text it records what it saw before the damage. Lines and columns are
//! 1-based and count characters (not bytes), like ron's own positions, so they can be compared.

/// A 1-based line and column (in characters) in the scenario text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Pos {
    /// Line, starting at 1.
    pub line: usize,
    /// Column in characters, starting at 1.
    pub column: usize,
}

/// One located field: where its key (or, for list elements, its value) starts and where its value
/// ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Dotted field path, e.g. `powder.nps.d50_um` or `calender.gaps[2]`.
    pub path: String,
    /// Position of the key's first character (list elements: the value's first character).
    pub start: Pos,
    /// Position just after the value's last character (the delimiter that closed it, or the end
    /// of the text when the value never closed).
    pub end: Pos,
    /// Byte range of the value's source text (after the colon for keys).
    pub value: std::ops::Range<usize>,
}

/// All fields found in a RON text, in the order their keys appear.
#[derive(Debug, Clone, Default)]
pub struct Locator {
    text: String,
    entries: Vec<Entry>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Paren,
    Bracket,
    Brace,
}

struct Frame {
    group: Group,
    /// Path of the value this group belongs to.
    path: String,
    /// Index into `entries` of the key currently open in this group (its value not yet closed).
    open_entry: Option<usize>,
    /// Next list element index (brackets only).
    element: usize,
    /// Whether the current list element has been recorded (brackets only).
    element_seen: bool,
}

impl Frame {
    fn new(group: Group, path: String) -> Self {
        Self {
            group,
            path,
            open_entry: None,
            element: 0,
            element_seen: false,
        }
    }
}

/// Character cursor tracking line and column.
struct Cursor<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    pos: Pos,
    byte: usize,
}

impl Cursor<'_> {
    fn peek(&mut self) -> Option<char> {
        self.chars.peek().copied()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        self.byte += c.len_utf8();
        if c == '\n' {
            self.pos.line += 1;
            self.pos.column = 1;
        } else {
            self.pos.column += 1;
        }
        Some(c)
    }
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

fn join(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

impl Locator {
    /// Scans `text` and records every field it can find.
    pub fn new(text: &str) -> Self {
        let mut entries: Vec<Entry> = Vec::new();
        let mut stack: Vec<Frame> = Vec::new();
        // Path of the value being written at the top level (outside any group): the root.
        let mut cur = Cursor {
            chars: text.chars().peekable(),
            pos: Pos { line: 1, column: 1 },
            byte: 0,
        };
        // A key whose `:` has been seen at top level of the current frame.
        while let Some(c) = cur.peek() {
            let here = cur.pos;
            // Whitespace and comments.
            if c.is_whitespace() {
                cur.bump();
                continue;
            }
            if c == '/' {
                cur.bump();
                match cur.peek() {
                    Some('/') => {
                        while let Some(c) = cur.peek() {
                            if c == '\n' {
                                break;
                            }
                            cur.bump();
                        }
                    }
                    Some('*') => {
                        cur.bump();
                        let mut depth = 1usize;
                        while depth > 0 {
                            match cur.bump() {
                                None => break,
                                Some('*') if cur.peek() == Some('/') => {
                                    cur.bump();
                                    depth -= 1;
                                }
                                Some('/') if cur.peek() == Some('*') => {
                                    cur.bump();
                                    depth += 1;
                                }
                                Some(_) => {}
                            }
                        }
                    }
                    _ => {}
                }
                continue;
            }
            // Anything else is the start of a value token inside a list: record the element.
            if let Some(top) = stack.last_mut() {
                if top.group == Group::Bracket
                    && !top.element_seen
                    && !matches!(c, ',' | ']' | ')' | '}')
                {
                    top.element_seen = true;
                    let path = format!("{}[{}]", top.path, top.element);
                    let b = cur.byte;
                    entries.push(Entry {
                        path,
                        start: here,
                        end: here,
                        value: b..b,
                    });
                    top.open_entry = Some(entries.len() - 1);
                }
            }
            match c {
                '"' => {
                    cur.bump();
                    while let Some(c) = cur.bump() {
                        match c {
                            '\\' => {
                                cur.bump();
                            }
                            '"' => break,
                            _ => {}
                        }
                    }
                }
                '\'' => {
                    cur.bump();
                    while let Some(c) = cur.bump() {
                        match c {
                            '\\' => {
                                cur.bump();
                            }
                            '\'' => break,
                            _ => {}
                        }
                    }
                }
                '(' | '[' | '{' => {
                    cur.bump();
                    let group = match c {
                        '(' => Group::Paren,
                        '[' => Group::Bracket,
                        _ => Group::Brace,
                    };
                    let path = match stack.last() {
                        None => String::new(),
                        Some(top) => match top.open_entry {
                            Some(i) => entries[i].path.clone(),
                            None => top.path.clone(),
                        },
                    };
                    stack.push(Frame::new(group, path));
                }
                ')' | ']' | '}' => {
                    cur.bump();
                    // The open value of the closed group ended at its last token (already recorded).
                    stack.pop();
                }
                ',' => {
                    cur.bump();
                    if let Some(top) = stack.last_mut() {
                        top.open_entry = None;
                        if top.group == Group::Bracket {
                            top.element += 1;
                            top.element_seen = false;
                        }
                    }
                }
                'r' if text_has_raw_string(&mut cur) => {}
                c if is_ident_start(c) => {
                    let mut name = String::new();
                    while let Some(c) = cur.peek() {
                        if !is_ident_char(c) {
                            break;
                        }
                        name.push(c);
                        cur.bump();
                    }
                    // `r#name` raw identifiers.
                    if name == "r" && cur.peek() == Some('#') {
                        cur.bump();
                        name.clear();
                        while let Some(c) = cur.peek() {
                            if !is_ident_char(c) {
                                break;
                            }
                            name.push(c);
                            cur.bump();
                        }
                    }
                    skip_blank(&mut cur);
                    if cur.peek() == Some(':') {
                        if let Some(top) = stack.last_mut() {
                            if top.group == Group::Paren {
                                cur.bump();
                                let path = join(&top.path, &name);
                                let b = cur.byte;
                                entries.push(Entry {
                                    path,
                                    start: here,
                                    end: cur.pos,
                                    value: b..b,
                                });
                                top.open_entry = Some(entries.len() - 1);
                            }
                        }
                    }
                }
                _ => {
                    // Numbers, signs, `:` of map entries, ...: extend the open entry's end.
                    cur.bump();
                }
            }
            // Whatever was consumed belongs to the open value (a closed group extends its parent's).
            if let Some(top) = stack.last() {
                if let Some(i) = top.open_entry {
                    if entries[i].end < cur.pos {
                        close(&mut entries[i], cur.pos, cur.byte);
                    }
                }
            }
        }
        // Unclosed values run to the end of the text.
        for frame in &stack {
            if let Some(i) = frame.open_entry {
                close(&mut entries[i], cur.pos, cur.byte);
            }
        }
        Self {
            text: text.to_string(),
            entries,
        }
    }

    /// Every recorded field, in text order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The value's source text of `path` as written (trimmed), if the field is in the text.
    pub fn value_text(&self, path: &str) -> Option<&str> {
        let e = self.entries.iter().find(|e| e.path == path)?;
        self.text.get(e.value.clone()).map(str::trim)
    }

    /// Whether `path` is written in the text.
    pub fn contains(&self, path: &str) -> bool {
        self.entries.iter().any(|e| e.path == path)
    }

    /// Position of the key of `path`, if written in the text (the first occurrence).
    pub fn find(&self, path: &str) -> Option<Pos> {
        self.entries
            .iter()
            .find(|e| e.path == path)
            .map(|e| e.start)
    }

    /// Position of `path`, else of the closest enclosing field that is written (`a.b[2]` → `a.b`
    /// → `a`), else `None`.
    pub fn find_or_parent(&self, path: &str) -> Option<Pos> {
        let mut p = path;
        loop {
            if let Some(pos) = self.find(p) {
                return Some(pos);
            }
            let cut = p.rfind(['.', '['])?;
            p = &p[..cut];
        }
    }

    /// The most deeply nested field whose key..value span contains `pos` (used to name the field
    /// of a parse error that ron reports only by position).
    pub fn path_at(&self, pos: Pos) -> Option<&str> {
        self.entries
            .iter()
            .filter(|e| e.start <= pos && pos <= e.end)
            .max_by_key(|e| (e.path.matches(['.', '[']).count(), e.start))
            .map(|e| e.path.as_str())
    }
}

/// Ends an entry's value at `pos` / byte `byte`.
fn close(e: &mut Entry, pos: Pos, byte: usize) {
    e.end = pos;
    e.value.end = byte.max(e.value.start);
}

/// Skips whitespace only (a comment between a key and its colon is not valid RON anyway).
fn skip_blank(cur: &mut Cursor<'_>) {
    while let Some(c) = cur.peek() {
        if !c.is_whitespace() {
            break;
        }
        cur.bump();
    }
}

/// Consumes a raw string `r"..."` / `r#"..."#` if one starts at the cursor (which is on `r`).
/// Returns false, consuming nothing, otherwise.
fn text_has_raw_string(cur: &mut Cursor<'_>) -> bool {
    let mut look = cur.chars.clone();
    look.next(); // the `r`
    let mut hashes = 0usize;
    while look.peek() == Some(&'#') {
        look.next();
        hashes += 1;
    }
    if look.peek() != Some(&'"') {
        return false;
    }
    cur.bump();
    for _ in 0..hashes {
        cur.bump();
    }
    cur.bump(); // opening quote
    'outer: while let Some(c) = cur.bump() {
        if c == '"' {
            let mut look = cur.chars.clone();
            for _ in 0..hashes {
                if look.next() != Some('#') {
                    continue 'outer;
                }
            }
            for _ in 0..hashes {
                cur.bump();
            }
            break;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: usize, column: usize) -> Pos {
        Pos { line, column }
    }

    /// Every `(path, line, column)` of `expected` is where `loc` finds the path.
    /// Checks positions written as `path line:column` entries separated by commas.
    fn assert_positions(loc: &Locator, expected: &str) {
        for entry in expected.split(',') {
            let (path, at) = entry.trim().split_once(' ').expect("`path line:column`");
            let (line, column) = at.split_once(':').expect("line:column");
            let want = pos(line.parse().expect("line"), column.parse().expect("column"));
            assert_eq!(loc.find(path), Some(want), "{path}");
        }
    }

    #[test]
    fn nested_keys_get_dotted_paths_and_positions() {
        let text = "(\n  name: \"a\",\n  powder: (\n    nps: ( d50_um: 5.0, gsd: 1.2 ),\n  ),\n)";
        let loc = Locator::new(text);
        assert_positions(
            &loc,
            "name 2:3, powder 3:3, powder.nps 4:5, powder.nps.d50_um 4:12, powder.nps.gsd 4:25",
        );
        assert_eq!(loc.find("gsd"), None);
    }

    #[test]
    fn strings_and_comments_are_skipped() {
        let text = concat!(
            "// seed: 3\n",
            "( /* powder: ( nps: ( /* nested */ d50_um: 1 ) ) */\n",
            "  name: \"x: (y: [z\\\" q: 1\", // a: 2\n",
            "  seed: 7,\n",
            ")"
        );
        let loc = Locator::new(text);
        let paths: Vec<&str> = loc.entries().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, vec!["name", "seed"]);
        assert_eq!(loc.find("seed"), Some(pos(4, 3)));
    }

    #[test]
    fn list_elements_and_enum_variants() {
        let text = "(calender: (gaps: List([250.0,\n 200.0, 180]), target_thickness_um: 1),\n \
                    output: (slice_fractions: [0.1, 0.9]))";
        let loc = Locator::new(text);
        assert_positions(
            &loc,
            "calender.gaps 1:13, calender.gaps[0] 1:25, calender.gaps[1] 2:2, calender.gaps[2] 2:9, \
             calender.target_thickness_um 2:16, output.slice_fractions[1] 3:34",
        );
        assert_eq!(loc.value_text("calender.gaps[1]"), Some("200.0"));
        assert_eq!(loc.value_text("calender.target_thickness_um"), Some("1"));
        let g = Locator::new("(calender: (gaps: Geometric(start_um: 250, passes: 2)))");
        assert_eq!(g.find("calender.gaps.passes"), Some(pos(1, 44)));
        assert_eq!(g.value_text("calender.gaps.start_um"), Some("250"));
        assert_eq!(
            g.value_text("calender.gaps"),
            Some("Geometric(start_um: 250, passes: 2)")
        );
    }

    #[test]
    fn parent_fallback_and_path_at() {
        let text = "(\n powder: (\n  nps: (d50_um: \"abc\"),\n ),\n seed: 2,\n)";
        let loc = Locator::new(text);
        // Not written: falls back to the enclosing struct.
        assert_eq!(loc.find_or_parent("powder.nps.gsd"), Some(pos(3, 3)));
        assert_eq!(loc.find_or_parent("calender.gaps[3]"), None);
        // Inside the d50_um value.
        assert_eq!(loc.path_at(pos(3, 19)), Some("powder.nps.d50_um"));
        assert_eq!(loc.path_at(pos(5, 8)), Some("seed"));
        assert_eq!(loc.path_at(pos(1, 1)), None);
    }

    #[test]
    fn malformed_text_does_not_panic() {
        for text in [
            "(",
            "((a: [1, ",
            "\"unterminated",
            "/* open",
            "(a: r#\"x",
            ")))]]",
            "(a:",
        ] {
            let loc = Locator::new(text);
            let _ = loc.path_at(pos(1, 2));
        }
        let loc = Locator::new("(powder: (nps: (d50_um: 3");
        assert_eq!(loc.path_at(pos(1, 26)), Some("powder.nps.d50_um"));
    }

    #[test]
    fn raw_strings_and_unicode_columns() {
        let text = "(name: r#\"a \"b: 1\" c\"#, /* µµ */ seed: 1)";
        let loc = Locator::new(text);
        let paths: Vec<&str> = loc.entries().iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, vec!["name", "seed"]);
        // Columns count characters: "µµ" are 2 columns, not 4 bytes.
        assert_eq!(loc.find("seed"), Some(pos(1, 34)));
    }
}
