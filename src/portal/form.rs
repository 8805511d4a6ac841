//! Forms over the API's own bodies: a form is a list of [`Field`]s named by the API body's
//! JSON paths (`registered_address.city`); what the browser sent is built into that JSON and
//! parsed by the API's parser ([`crate::http::body::parse_ruled_body`]), so a form and its API
//! route accept and refuse exactly the same things, with the same messages. Each error is
//! put beside the field it names; an error naming no field of the form goes to the summary.

use maud::{html, Markup};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::error::{AppError, FieldError};
use crate::http::BodyRules;

/// What kind of input a field is, and how its text becomes JSON.
#[derive(Debug, Clone)]
pub enum Kind {
    Text,
    Email,
    Tel,
    /// A whole number (JSON number).
    Whole,
    /// A decimal number (JSON number).
    Decimal,
    /// One of the options, as radios (JSON string).
    Radios(Vec<(String, String)>),
    /// One of the options, as a select (JSON string); the first option may be empty.
    Select(Vec<(String, String)>),
    /// Any of the options, as checkboxes (JSON array of strings).
    Checks(Vec<(String, String)>),
    /// Words separated by commas or spaces (JSON array of strings).
    List,
    /// A file (multipart forms only; not part of the JSON).
    File,
    /// A date (`YYYY-MM-DD`), sent as midnight UTC of that day.
    Date,
    /// A date and time (`YYYY-MM-DDTHH:MM`), in UTC.
    DateTime,
    /// A longer text.
    Area,
    /// One checkbox: `true` when ticked, absent otherwise.
    Tick,
    /// A password: never written back into the page.
    Password,
    /// An amount typed in rupees (`20,000.50`), sent in paisa (JSON number).
    Rupees,
}

/// One field: its name (the API body's JSON path), its visible label and an optional hint.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: &'static str,
    pub label: String,
    pub kind: Kind,
    pub hint: Option<&'static str>,
    /// The element id, when two forms of a page share a field name (the name otherwise).
    pub id: Option<&'static str>,
}

impl Field {
    pub fn new(name: &'static str, label: &str, kind: Kind) -> Field {
        Field { name, label: label.to_string(), kind, hint: None, id: None }
    }

    pub fn id(mut self, id: &'static str) -> Field {
        self.id = Some(id);
        self
    }

    fn element_id(&self) -> &'static str {
        self.id.unwrap_or(self.name)
    }

    pub fn text(name: &'static str, label: &str) -> Field {
        Field::new(name, label, Kind::Text)
    }

    pub fn hint(mut self, hint: &'static str) -> Field {
        self.hint = Some(hint);
        self
    }
}

/// Options from `(value, label)` pairs.
pub fn options(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(v, l)| (v.to_string(), l.to_string())).collect()
}

/// The values a form shows: as the browser sent them, or as the object stands now.
#[derive(Debug, Clone, Default)]
pub struct Values(pub Vec<(String, String)>);

impl Values {
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.0.push((name.to_string(), value.into()));
    }

    /// The values of a JSON object (a stored object's view), by the fields' paths.
    pub fn of(fields: &[Field], object: &Value) -> Values {
        let mut values = Values::default();
        for f in fields {
            let pointer = format!("/{}", f.name.replace('.', "/"));
            match object.pointer(&pointer) {
                Some(Value::String(s)) => values.set(f.name, s.clone()),
                Some(Value::Number(n)) => values.set(f.name, n.to_string()),
                Some(Value::Array(items)) => {
                    let words = items.iter().filter_map(Value::as_str);
                    match f.kind {
                        Kind::List => values.set(f.name, words.collect::<Vec<_>>().join(", ")),
                        _ => words.for_each(|w| values.set(f.name, w)),
                    }
                }
                _ => {}
            }
        }
        values
    }
}

/// Puts `value` at the dotted `path` of `object`.
fn insert(object: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            object.insert(path.to_string(), value);
        }
        Some((head, rest)) => {
            let inner = object.entry(head).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = inner {
                insert(inner, rest, value);
            }
        }
    }
}

/// The JSON body the form's values make, and the errors only the form can see (a number
/// that is not one). An empty text is left out, so a required field is "required".
fn to_json(fields: &[Field], values: &Values) -> (Value, Vec<FieldError>) {
    let mut object = Map::new();
    let mut errors = Vec::new();
    for f in fields {
        let raw = values.get(f.name).trim();
        let value = match &f.kind {
            Kind::File => continue,
            Kind::Checks(_) => Value::from(values.all(f.name)),
            Kind::Tick if raw == "true" => Value::Bool(true),
            Kind::Tick => continue,
            Kind::List => Value::from(
                raw.split([',', ' ', ';']).filter(|w| !w.is_empty()).collect::<Vec<_>>(),
            ),
            _ if raw.is_empty() => continue,
            Kind::Whole => match raw.replace(',', "").parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => {
                    errors.push(FieldError::new(f.name, "must be a whole number"));
                    continue;
                }
            },
            Kind::Rupees => match paisa(raw) {
                Some(n) => Value::from(n),
                None => {
                    errors.push(FieldError::new(
                        f.name,
                        "must be an amount in rupees, e.g. 20000 or 20000.50",
                    ));
                    continue;
                }
            },
            Kind::Date if raw.len() == 10 => Value::from(format!("{raw}T00:00:00Z")),
            Kind::DateTime if raw.len() == 16 => Value::from(format!("{raw}:00Z")),
            Kind::Decimal => match raw.parse::<f64>() {
                Ok(n) if n.is_finite() => Value::from(n),
                _ => {
                    errors.push(FieldError::new(f.name, "must be a number"));
                    continue;
                }
            },
            _ => Value::from(raw),
        };
        insert(&mut object, f.name, value);
    }
    (Value::Object(object), errors)
}

/// Rupees as typed (`20,000.50`) in paisa, or `None`.
fn paisa(raw: &str) -> Option<i64> {
    let raw = raw.trim().replace(',', "");
    let (whole, fraction) = raw.split_once('.').unwrap_or((&raw, ""));
    let digits = whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit());
    if whole.is_empty() || fraction.len() > 2 || !digits {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
    whole.checked_mul(100)?.checked_add(fraction)
}

/// The form's values parsed as the API body `T`, with `extra` JSON fields the form does not
/// show (a hidden `kind`); on failure, every error, each named by its field.
pub fn parse<T: DeserializeOwned + ToSchema + BodyRules + 'static>(
    fields: &[Field],
    values: &Values,
    extra: &[(&str, Value)],
) -> Result<T, Vec<FieldError>> {
    let (mut json, mut errors) = to_json(fields, values);
    if let Value::Object(object) = &mut json {
        for (k, v) in extra {
            object.insert(k.to_string(), v.clone());
        }
    }
    match crate::http::body::parse_ruled_body::<T>(json) {
        Ok(body) if errors.is_empty() => Ok(body.into_inner()),
        Ok(_) => Err(errors),
        Err(e) => {
            let known = errors.iter().map(|e| e.field.clone()).collect::<Vec<_>>();
            let more = field_errors(fields, e);
            errors.extend(more.into_iter().filter(|e| !known.contains(&e.field)));
            Err(errors)
        }
    }
}

/// An error of the API's rules as field errors of this form: a validation error's fields
/// (`markets[1]` is `markets`'s), or a domain refusal whose text begins with a field's name
/// (`registration_number … is already registered`); anything else names no field.
pub fn field_errors(fields: &[Field], e: AppError) -> Vec<FieldError> {
    let field_of = |path: &str| {
        // `findings[0].code` is the row field `findings.0.code`, else `findings`'s.
        let dotted = path.replace('[', ".").replace(']', "");
        let base = path.split('[').next().unwrap_or(path);
        let by = |name: &str| fields.iter().find(|f| f.name == name).map(|f| f.name.to_string());
        by(&dotted).or_else(|| by(base))
    };
    match e {
        AppError::Validation { errors, .. } => errors
            .into_iter()
            .map(|e| FieldError::new(field_of(&e.field).unwrap_or_default(), e.message))
            .collect(),
        other => {
            let detail = other.problem().detail;
            let first = detail.split([' ', ':']).next().unwrap_or("");
            vec![FieldError::new(field_of(first).unwrap_or_default(), detail)]
        }
    }
}

/// The status a form is shown again with after the domain refused it: 412 for a stale
/// version, 409 for a step that is not open, 422 for invalid values; `None` for an error that
/// is a page of its own (404, 403, 500).
pub fn refusal_status(e: &AppError) -> Option<actix_web::http::StatusCode> {
    use actix_web::http::StatusCode;
    match e {
        AppError::PreconditionFailed(_) => Some(StatusCode::PRECONDITION_FAILED),
        AppError::Conflict(_) => Some(StatusCode::CONFLICT),
        e if is_form_error(e) => Some(StatusCode::UNPROCESSABLE_ENTITY),
        _ => None,
    }
}

/// Whether an error is one a form shows again (422) rather than a page of its own.
pub fn is_form_error(e: &AppError) -> bool {
    matches!(e, AppError::Validation { .. } | AppError::Conflict(_) | AppError::BadRequest(_))
}

/// "There is a problem", each error linking to its field.
pub fn error_summary(fields: &[Field], errors: &[FieldError]) -> Markup {
    let field = |name: &str| fields.iter().find(|f| f.name == name);
    html! {
        @if !errors.is_empty() {
            div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" {
                h2 id="error-summary-title" { "There is a problem" }
                ul {
                    @for e in errors {
                        @match field(&e.field) {
                            Some(f) => li { a href={ "#" (f.element_id()) } { (f.label) ": " (e.message) } },
                            None => li { (e.message) },
                        }
                    }
                }
            }
        }
    }
}

/// The fields, each with its label, hint, value and error.
pub fn render(fields: &[Field], values: &Values, errors: &[FieldError]) -> Markup {
    html! { @for f in fields { (render_field(f, values, errors)) } }
}

fn render_field(f: &Field, values: &Values, errors: &[FieldError]) -> Markup {
    let id = f.element_id();
    let error = errors.iter().find(|e| e.field == f.name);
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described = [f.hint.map(|_| hint_id.clone()), error.map(|_| error_id.clone())]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let described = (!described.is_empty()).then_some(described);
    let notes = html! {
        @if let Some(h) = f.hint { p id=(hint_id) class="hint" { (h) } }
        @if let Some(e) = error {
            p id=(error_id) class="error-message" { span class="visually-hidden" { "Error: " } (e.message) }
        }
    };
    let class = if error.is_some() { "field field-error" } else { "field" };
    match &f.kind {
        Kind::Radios(opts) | Kind::Checks(opts) => {
            let kind = if matches!(f.kind, Kind::Radios(_)) { "radio" } else { "checkbox" };
            let chosen = values.all(f.name);
            html! {
                fieldset class=(class) id=(id) aria-describedby=[described] {
                    legend { (f.label) }
                    (notes)
                    @for (i, (value, label)) in opts.iter().enumerate() {
                        @let oid = format!("{id}-{i}");
                        div class="choice" {
                            input type=(kind) id=(oid) name=(f.name) value=(value)
                                checked[chosen.contains(&value.as_str())];
                            label for=(oid) { (label) }
                        }
                    }
                }
            }
        }
        Kind::Select(opts) => html! {
            div class=(class) {
                label for=(id) { (f.label) }
                (notes)
                select id=(id) name=(f.name) aria-describedby=[described] {
                    @for (value, label) in opts {
                        option value=(value) selected[values.get(f.name) == value] { (label) }
                    }
                }
            }
        },
        _ => {
            let (kind, autocomplete, mode) = match f.kind {
                Kind::Email => ("email", "email", None),
                Kind::Tel => ("tel", "tel", None),
                Kind::Whole => ("text", "off", Some("numeric")),
                Kind::Decimal => ("text", "off", Some("decimal")),
                Kind::File => ("file", "off", None),
                Kind::Date => ("date", "off", None),
                Kind::Password => ("password", "new-password", None),
                Kind::DateTime => ("datetime-local", "off", None),
                _ => ("text", "off", None),
            };
            if matches!(f.kind, Kind::Tick) {
                return html! {
                    div class=(class) {
                        (notes)
                        div class="choice" {
                            input type="checkbox" id=(id) name=(f.name) value="true"
                                checked[values.get(f.name) == "true"] aria-describedby=[described];
                            label for=(id) { (f.label) }
                        }
                    }
                };
            }
            if matches!(f.kind, Kind::Area) {
                return html! {
                    div class=(class) {
                        label for=(id) { (f.label) }
                        (notes)
                        textarea id=(id) name=(f.name) rows="4" aria-invalid=[error.map(|_| "true")]
                            aria-describedby=[described] { (values.get(f.name)) }
                    }
                };
            }
            let value =
                if matches!(kind, "file" | "password") { None } else { Some(values.get(f.name)) };
            html! {
                div class=(class) {
                    label for=(id) { (f.label) }
                    (notes)
                    input id=(id) name=(f.name) type=(kind) value=[value] autocomplete=(autocomplete)
                        inputmode=[mode] aria-invalid=[error.map(|_| "true")] aria-describedby=[described];
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_names_make_nested_objects_and_numbers_are_numbers() {
        let fields = [
            Field::text("address.city", "City"),
            Field::new("seat_count", "Seat count", Kind::Whole),
            Field::new("markets", "Markets", Kind::List),
            Field::text("name", "Name"),
        ];
        let values = Values(vec![
            ("address.city".into(), " Karachi ".into()),
            ("seat_count".into(), "1,200".into()),
            ("markets".into(), "PK, GB".into()),
            ("name".into(), "".into()),
        ]);
        let (json, errors) = to_json(&fields, &values);
        assert!(errors.is_empty());
        assert_eq!(
            json,
            serde_json::json!({"address": {"city": "Karachi"}, "seat_count": 1200, "markets": ["PK", "GB"]})
        );
        let bad = Values(vec![("seat_count".into(), "many".into())]);
        assert_eq!(to_json(&fields, &bad).1[0].field, "seat_count");
    }

    #[test]
    fn rupees_as_typed_are_paisa() {
        assert_eq!(paisa("20000"), Some(2_000_000));
        assert_eq!(paisa("20,000.5"), Some(2_000_050));
        assert_eq!(paisa("0.05"), Some(5));
        assert_eq!(paisa("1.234"), None);
        assert_eq!(paisa("-5"), None);
        assert_eq!(paisa(""), None);
    }

    #[test]
    fn a_refusal_naming_a_field_is_put_beside_it() {
        let fields = [Field::text("registration_number", "Registration number")];
        let e = AppError::conflict("registration_number 0012345 is already registered");
        assert_eq!(field_errors(&fields, e)[0].field, "registration_number");
        let e = AppError::conflict("something else");
        assert_eq!(field_errors(&fields, e)[0].field, "");
    }
}
