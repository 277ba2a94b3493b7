//! The catalog of diagnostic codes (DIAGNOSTICS.md): one place that knows each
//! code's name, severity and one-line summary.

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The file does not compile.
    Error,
    /// The file compiles, but something is probably wrong.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

macro_rules! catalog {
    ($($code:ident $sev:ident $summary:literal;)*) => {
        /// A stable diagnostic code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(#[doc = $summary] $code,)*
        }

        impl Code {
            /// Every code, in order.
            pub const ALL: &'static [Code] = &[$(Code::$code,)*];

            /// The code as written: `E0102`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$code => stringify!($code),)* }
            }

            /// Whether the code is an error or a warning.
            pub fn severity(self) -> Severity {
                match self { $(Code::$code => Severity::$sev,)* }
            }

            /// A one-line summary of what the code means.
            pub fn summary(self) -> &'static str {
                match self { $(Code::$code => $summary,)* }
            }

            /// The long explanation (Markdown, with a wrong and a right example).
            pub fn explanation(self) -> &'static str {
                match self { $(Code::$code => include_str!(concat!("explain/", stringify!($code), ".md")),)* }
            }
        }
    };
}

catalog! {
    E0001 Error "syntax error";
    E0002 Error "unterminated string, prose block or template";
    E0003 Error "malformed literal";
    E0004 Error "the file has no `workflow` block";
    E0005 Error "more than one `workflow` block";
    E0006 Error "a reserved word used as a name";
    E0101 Error "a name is declared twice";
    E0102 Error "unknown node";
    E0103 Error "unknown variable";
    E0104 Error "unknown tool";
    E0105 Error "unknown type";
    E0106 Error "unknown model";
    E0107 Error "unknown knowledge base";
    E0108 Error "unknown builtin";
    E0109 Error "a call names a parameter the tool does not have";
    E0110 Error "a call leaves out a required parameter";
    E0111 Error "unknown secret";
    E0112 Error "no model for a step that needs one";
    E0113 Error "unknown model provider";
    E0201 Error "type mismatch";
    E0202 Error "an optional value is used without `?.`, `??` or a `null` test";
    E0203 Error "the type has no such field";
    E0204 Error "a variable is read where it may be unset";
    E0205 Error "a default value does not match its type";
    E0206 Error "`result` used outside an action with a `call`";
    E0207 Error "an operator is applied to operands it does not take";
    E0208 Error "`extract` into something that is not a `var`";
    E0209 Error "a template in text that is taken literally";
    E0210 Error "a named type refers to itself";
    E0211 Error "an invalid regular expression in `matches`, or an unknown time zone in `today`";
    E0301 Error "a cycle has no bounded edge";
    E0302 Error "dead end: a node lacks the exit it needs";
    E0303 Error "the `workflow` block has no `start`";
    E0304 Error "ambiguous exits";
    E0305 Error "an exit can never be taken";
    E0306 Error "a `route` is not exhaustive and has no `else`";
    E0307 Error "an `approval` lacks an exit it needs";
    E0308 Error "a companion target is not an `action` or `say` without exits";
    E0309 Error "a companion writes a variable another node writes";
    E0310 Error "an exit this node kind does not take";
    E0311 Error "a required field is missing";
    E0312 Error "a field this block does not take, or given twice";
    E0313 Error "a bound, count or time-out must be at least 1 and at most its cap";
    E0401 Error "a secret would reach a model or a person";
    W0501 Warning "node not reachable from `start`";
    W0502 Warning "an action's `call` has no `on error`";
    W0503 Warning "declared but never used";
    W0504 Warning "two conditions are nearly the same";
}

/// The `flow` examples of an explanation: the one under `## Wrong` and the one under `## Right`.
pub fn explanation_examples(markdown: &str) -> (Option<&str>, Option<&str>) {
    let block_after = |heading: &str| {
        let rest = &markdown[markdown.find(heading)? + heading.len()..];
        let start = rest.find("```flow\n")? + "```flow\n".len();
        let end = rest[start..].find("```")?;
        Some(&rest[start..start + end])
    };
    (block_after("## Wrong"), block_after("## Right"))
}

impl Code {
    /// The anchor of this code's section in docs/diagnostics.md, as GitHub and
    /// most Markdown viewers make it from the heading (`e0301-unbounded-cycle`).
    pub fn docs_anchor(self) -> String {
        let title = self
            .explanation()
            .lines()
            .next()
            .unwrap_or("")
            .trim_start_matches('#')
            .trim();
        title
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect()
    }

    /// The link to this code's explanation under `base`, the address of a
    /// published docs/diagnostics.md (`FLOW_DOCS_URL`): `base#anchor`. None
    /// unless `base` is an absolute URI (a scheme, then `:`), so SARIF's
    /// `helpUri` and the language server's link stay valid.
    pub fn docs_url(self, base: &str) -> Option<String> {
        let base = base.trim();
        let scheme = base.split_once(':')?.0;
        let absolute = scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
            && base.len() > scheme.len() + 1;
        let base = base.split('#').next().unwrap_or(base);
        absolute.then(|| format!("{base}#{}", self.docs_anchor()))
    }
}

/// The environment variable naming the published docs/diagnostics.md that
/// diagnostic links point at (unset: no links).
pub const DOCS_URL_ENV: &str = "FLOW_DOCS_URL";

/// The index of every code as Markdown (docs/diagnostics.md is this text).
pub fn index_markdown() -> String {
    let mut out = String::from(
        "# Diagnostic codes\n\nEvery problem `flow check` reports has a stable code. `flow explain CODE` prints the\nlong explanation of one, with a wrong and a right example; this page lists them all.\nIt is generated from `compiler/src/explain/*.md` (a test keeps it in sync).\n\n| code | severity | summary |\n|---|---|---|\n",
    );
    for code in Code::ALL {
        let slug = code.docs_anchor();
        out.push_str(&format!(
            "| [{code}](#{slug}) | {} | {} |\n",
            code.severity().as_str(),
            code.summary()
        ));
    }
    for code in Code::ALL {
        out.push('\n');
        let text = code.explanation().trim_end();
        // Demote the explanation's headings one level under this page's title.
        for line in text.lines() {
            if line.starts_with('#') {
                out.push('#');
            }
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Code {
    type Err = ();

    fn from_str(text: &str) -> Result<Code, ()> {
        let upper = text.trim().to_ascii_uppercase();
        Code::ALL.iter().copied().find(|code| code.as_str() == upper).ok_or(())
    }
}
