//! A tool's `body form { … }`: each field's value must be a scalar, since a
//! form-encoded body is a flat list of `name=value` pairs (E0201 otherwise).

use super::types::Ty;
use super::{Checker, Scope};
use crate::ast::{Expr, ExprKind};
use crate::codes::Code;
use crate::diagnostic::Diagnostic;

impl Checker<'_, '_> {
    /// Types a form body's fields; a list or an object is a type mismatch.
    pub(crate) fn check_form_body(&mut self, body: &Expr, scope: &Scope) {
        let ExprKind::Object(fields) = &body.kind else {
            self.infer(body, scope);
            return;
        };
        for (name, value) in fields {
            let ty = self.infer(value, scope);
            let shape = self.program.types.resolve(&ty).unwrap_optional().clone();
            let shape = self.program.types.resolve(&shape).clone();
            if matches!(shape, Ty::List(_) | Ty::Object(_)) {
                self.push(
                    Diagnostic::new(
                        Code::E0201,
                        value.span,
                        format!(
                            "type mismatch: the form field `{}` must be a string, number, bool or null, found `{ty}`",
                            name.name
                        ),
                    )
                    .primary(format!("`{ty}` cannot be form-encoded"))
                    .help("a form body is flat `name=value` pairs: pass one field of the value, or use a JSON `body { … }`"),
                );
            }
        }
    }
}
