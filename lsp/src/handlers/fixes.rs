//! Quick fixes the language server adds to the compiler's own: remove an
//! unused declaration (W0503); give a variable that may be unset a default,
//! or make it optional (E0204).

use super::lookup::{self, slice};
use crate::store::Analysis;
use flow_compiler::ast::{TypeExpr, TypeKind, VariableDecl};
use flow_compiler::{Code, Diagnostic, Edit, Fix, Span};

/// The extra fixes for `d`, most useful first.
pub fn fixes(analysis: &Analysis, d: &Diagnostic) -> Vec<Fix> {
    match d.code {
        Code::W0503 => remove_declaration(&analysis.text, d.span).into_iter().collect(),
        Code::E0204 => unset_variable(analysis, d),
        _ => Vec::new(),
    }
}

/// Deletes the declaration whose name is at `name`: from the start of its
/// line to the next top-level line (a letter or `#` in the first column), so
/// a block's lines and the blank lines after it go too.
fn remove_declaration(text: &str, name: Span) -> Option<Fix> {
    let start = text.get(..name.start as usize)?.rfind('\n').map_or(0, |i| i + 1);
    let after_line = text
        .get(name.end as usize..)?
        .find('\n')
        .map_or(text.len(), |i| name.end as usize + i + 1);
    let mut end = after_line;
    for line in text.get(after_line..)?.split_inclusive('\n') {
        if line.starts_with(|c: char| c.is_alphabetic() || c == '#') {
            break;
        }
        end += line.len();
    }
    let written = slice(text, name);
    Some(Fix {
        message: format!("remove the unused declaration of `{written}`"),
        edits: vec![Edit {
            span: Span::new(start, end),
            text: String::new(),
        }],
    })
}

/// The `var` the E0204 is about: the one its "declared without a default" label points at.
fn declaration<'a>(analysis: &'a Analysis, d: &Diagnostic) -> Option<&'a VariableDecl> {
    lookup::variables(&analysis.file).find_map(|v| match v {
        lookup::Variable::Decl(decl) if d.labels.iter().any(|l| l.span == decl.name.span) => Some(decl),
        _ => None,
    })
}

fn unset_variable(analysis: &Analysis, d: &Diagnostic) -> Vec<Fix> {
    let Some(decl) = declaration(analysis, d) else {
        return Vec::new();
    };
    let text = analysis.text.as_str();
    let written = slice(text, decl.ty.span);
    // The type's span may end with the blank after it.
    let ty_end = decl.ty.span.start as usize + text.get(decl.ty.span.range()).map_or(0, |t| t.trim_end().len());
    let at_end = Span::new(ty_end, ty_end);
    let name = &decl.name.name;
    let mut out = Vec::new();
    if decl.default.is_none()
        && let Some(value) = default_of(analysis, &decl.ty)
    {
        out.push(Fix {
            message: format!("give `{name}` the default `{value}`"),
            edits: vec![Edit {
                span: at_end,
                text: format!(" = {value}"),
            }],
        });
    }
    if !written.ends_with('?') {
        out.push(Fix {
            message: format!("make `{name}` optional (`{written}?`)"),
            edits: vec![Edit {
                span: at_end,
                text: "?".to_string(),
            }],
        });
    }
    out
}

/// A plain default for a type: `""`, `0`, `false`, `[]`, a union's first
/// string; None for objects and `any`, whose default the user must choose.
fn default_of(analysis: &Analysis, ty: &TypeExpr) -> Option<String> {
    let mut ty = ty;
    // Named types may refer to each other in a loop (E0210): bound the walk.
    for _ in 0..32 {
        match &ty.kind {
            TypeKind::String => return Some("\"\"".into()),
            TypeKind::Number | TypeKind::Int => return Some("0".into()),
            TypeKind::Bool => return Some("false".into()),
            TypeKind::List(_) => return Some("[]".into()),
            TypeKind::Union(options) => {
                return options
                    .first()
                    .map(|(_, span)| slice(&analysis.text, *span).to_string());
            }
            TypeKind::Named(n) => ty = &lookup::type_decl(&analysis.file, &n.name)?.ty,
            _ => return None,
        }
    }
    None
}
