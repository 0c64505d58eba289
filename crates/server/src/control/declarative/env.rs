//! `${VAR}` substitution in the declarative file: the one place that reads values from the
//! environment into it. A variable that is not set is an error naming it (the caller adds
//! the path); `$${` stands for a literal `${`. Errors never carry a variable's value.

/// Why a string could not be substituted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubstError {
    #[error("environment variable {0} is not set")]
    Missing(String),
    #[error("unterminated `${{` (write `$${{` for a literal `${{`)")]
    Unterminated,
    #[error("`${{{0}}}` is not a valid environment variable name")]
    BadName(String),
}

/// Replaces every `${NAME}` in `text` with `env(NAME)`.
pub fn substitute(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, SubstError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let end = after.find('}').ok_or(SubstError::Unterminated)?;
            out.push_str(&lookup(&after[..end], env)?);
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn lookup(name: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, SubstError> {
    let mut chars = name.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(SubstError::BadName(name.to_owned()));
    }
    env(name).ok_or_else(|| SubstError::Missing(name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "OPENAI_API_KEY" => Some("sk-from-env".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn run(text: &str) -> Result<String, SubstError> {
        substitute(text, &env)
    }

    #[test]
    fn a_variable_is_replaced_by_its_value() {
        assert_eq!(run("${OPENAI_API_KEY}"), Ok("sk-from-env".to_owned()));
        assert_eq!(run("Bearer ${OPENAI_API_KEY}!"), Ok("Bearer sk-from-env!".to_owned()));
        assert_eq!(run("${EMPTY}x"), Ok("x".to_owned()));
    }

    #[test]
    fn text_without_variables_is_unchanged() {
        assert_eq!(run("plain $5 and $HOME and ^a$"), Ok("plain $5 and $HOME and ^a$".to_owned()));
    }

    #[test]
    fn a_missing_variable_is_named() {
        assert_eq!(run("${NOPE}"), Err(SubstError::Missing("NOPE".to_owned())));
        assert_eq!(SubstError::Missing("NOPE".into()).to_string(), "environment variable NOPE is not set");
    }

    #[test]
    fn double_dollar_escapes_a_literal() {
        assert_eq!(run("$${OPENAI_API_KEY}"), Ok("${OPENAI_API_KEY}".to_owned()));
    }

    #[test]
    fn unterminated_and_bad_names_are_errors() {
        assert_eq!(run("${OPENAI_API_KEY"), Err(SubstError::Unterminated));
        assert_eq!(run("${1ABC}"), Err(SubstError::BadName("1ABC".to_owned())));
        assert_eq!(run("${}"), Err(SubstError::BadName(String::new())));
    }

    #[test]
    fn multibyte_text_around_variables_survives() {
        assert_eq!(run("é${EMPTY}ü$"), Ok("éü$".to_owned()));
    }
}
