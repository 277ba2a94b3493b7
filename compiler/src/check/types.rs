//! Semantic types: assignability, display and JSON Schema.

use indexmap::IndexMap;
use serde_json::{Value, json};
use std::fmt;
use std::rc::Rc;

/// A checked type.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    /// `string`.
    String,
    /// `number`.
    Number,
    /// `int`.
    Int,
    /// `bool`.
    Bool,
    /// `any`.
    Any,
    /// The type of `null`.
    Null,
    /// A string-literal union (a single literal is the type of a string literal).
    Union(Rc<[String]>),
    /// `[T]`.
    List(Rc<Ty>),
    /// `{ f: T }`; optional fields have optional types.
    Object(Rc<[(String, Ty)]>),
    /// A named type, looked up in the type table.
    Named(Rc<str>),
    /// `T?`.
    Optional(Rc<Ty>),
    /// A type that could not be worked out (already reported): fits anything.
    Error,
}

impl Ty {
    /// `T?` (flattening `T??` and leaving `null` and `any` alone).
    pub fn optional(self) -> Ty {
        match self {
            Ty::Optional(_) | Ty::Null | Ty::Any | Ty::Error => self,
            other => Ty::Optional(Rc::new(other)),
        }
    }

    /// Whether it is `T?`.
    pub fn is_optional(&self) -> bool {
        matches!(self, Ty::Optional(_) | Ty::Null)
    }

    /// `T` for `T?`, else itself.
    pub fn unwrap_optional(&self) -> &Ty {
        match self {
            Ty::Optional(inner) => inner,
            other => other,
        }
    }
}

/// The named types of a file.
#[derive(Debug, Default, Clone)]
pub struct TypeTable {
    /// Each named type's definition; a self-referring one is `Error`.
    pub defs: IndexMap<String, Ty>,
}

impl TypeTable {
    /// Follows named types to a structural type (at most as deep as the table).
    pub fn resolve<'t>(&'t self, mut ty: &'t Ty) -> &'t Ty {
        for _ in 0..=self.defs.len() {
            match ty {
                Ty::Named(name) => match self.defs.get(&**name) {
                    Some(def) => ty = def,
                    None => return &Ty::Error,
                },
                _ => return ty,
            }
        }
        &Ty::Error
    }

    /// Whether a value of type `from` may stand where `to` is expected.
    pub fn assignable(&self, from: &Ty, to: &Ty) -> bool {
        self.assignable_depth(from, to, 0)
    }

    fn assignable_depth(&self, from: &Ty, to: &Ty, depth: usize) -> bool {
        if depth > 64 {
            return true;
        }
        if let (Ty::Named(a), Ty::Named(b)) = (from, to)
            && a == b
        {
            return true;
        }
        let from = self.resolve(from);
        let to = self.resolve(to);
        match (from, to) {
            (Ty::Error, _) | (_, Ty::Error) | (Ty::Any, _) | (_, Ty::Any) => true,
            (Ty::Null, Ty::Optional(_)) | (Ty::Null, Ty::Null) => true,
            (Ty::Optional(f), Ty::Optional(t)) => self.assignable_depth(f, t, depth + 1),
            (f, Ty::Optional(t)) => self.assignable_depth(f, t, depth + 1),
            (Ty::Optional(_), _) | (Ty::Null, _) => false,
            (Ty::Int, Ty::Int | Ty::Number) => true,
            (Ty::Number, Ty::Number) => true,
            (Ty::String, Ty::String) | (Ty::Bool, Ty::Bool) => true,
            (Ty::Union(_), Ty::String) => true,
            (Ty::Union(a), Ty::Union(b)) => a.iter().all(|s| b.contains(s)),
            (Ty::List(a), Ty::List(b)) => self.assignable_depth(a, b, depth + 1),
            (Ty::Object(a), Ty::Object(b)) => {
                let fields_fit = b.iter().all(|(name, tb)| match a.iter().find(|(n, _)| n == name) {
                    Some((_, ta)) => self.assignable_depth(ta, tb, depth + 1),
                    None => tb.is_optional() || matches!(self.resolve(tb), Ty::Any),
                });
                let no_extra = a.iter().all(|(name, _)| b.iter().any(|(n, _)| n == name));
                fields_fit && no_extra
            }
            _ => false,
        }
    }

    /// Whether values of the two types can be compared with `==`.
    pub fn comparable(&self, a: &Ty, b: &Ty) -> bool {
        let a = self.resolve(a.unwrap_optional());
        let b = self.resolve(b.unwrap_optional());
        matches!(a, Ty::Null) || matches!(b, Ty::Null) || self.assignable(a, b) || self.assignable(b, a)
    }

    /// Whether it is `int` or `number`.
    pub fn is_numeric(&self, ty: &Ty) -> bool {
        matches!(self.resolve(ty), Ty::Int | Ty::Number | Ty::Any | Ty::Error)
    }

    /// Whether it is a string or a string-literal union.
    pub fn is_stringy(&self, ty: &Ty) -> bool {
        matches!(self.resolve(ty), Ty::String | Ty::Union(_) | Ty::Any | Ty::Error)
    }

    /// The JSON Schema of a type, named types inlined (no `$ref`).
    pub fn schema(&self, ty: &Ty) -> Value {
        self.schema_depth(ty, 0)
    }

    fn schema_depth(&self, ty: &Ty, depth: usize) -> Value {
        if depth > 64 {
            return json!({});
        }
        match ty {
            Ty::String => json!({"type": "string"}),
            Ty::Number => json!({"type": "number"}),
            Ty::Int => json!({"type": "integer"}),
            Ty::Bool => json!({"type": "boolean"}),
            Ty::Any | Ty::Error => json!({}),
            Ty::Null => json!({"type": "null"}),
            Ty::Union(items) => json!({"type": "string", "enum": items.to_vec()}),
            Ty::List(item) => json!({"type": "array", "items": self.schema_depth(item, depth + 1)}),
            Ty::Object(fields) => {
                let mut properties = serde_json::Map::new();
                let mut required = Vec::new();
                for (name, field) in fields.iter() {
                    properties.insert(name.clone(), self.schema_depth(field, depth + 1));
                    if !field.is_optional() {
                        required.push(Value::String(name.clone()));
                    }
                }
                json!({
                    "type": "object",
                    "properties": properties,
                    "required": required,
                    "additionalProperties": false,
                })
            }
            Ty::Named(name) => match self.defs.get(&**name) {
                Some(def) => self.schema_depth(def, depth + 1),
                None => json!({}),
            },
            Ty::Optional(inner) => {
                let inner = self.schema_depth(inner, depth + 1);
                if inner.as_object().is_some_and(|o| o.is_empty()) {
                    inner
                } else {
                    json!({"anyOf": [inner, {"type": "null"}]})
                }
            }
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::String => f.write_str("string"),
            Ty::Number => f.write_str("number"),
            Ty::Int => f.write_str("int"),
            Ty::Bool => f.write_str("bool"),
            Ty::Any | Ty::Error => f.write_str("any"),
            Ty::Null => f.write_str("null"),
            Ty::Union(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" | ")?;
                    }
                    write!(f, "{item:?}")?;
                }
                Ok(())
            }
            Ty::List(item) => write!(f, "[{item}]"),
            Ty::Object(fields) => {
                f.write_str("{ ")?;
                for (i, (name, ty)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{name}: {ty}")?;
                }
                f.write_str(" }")
            }
            Ty::Named(name) => f.write_str(name),
            Ty::Optional(inner) => match &**inner {
                Ty::Union(items) if items.len() > 1 => write!(f, "({inner})?"),
                _ => write!(f, "{inner}?"),
            },
        }
    }
}
