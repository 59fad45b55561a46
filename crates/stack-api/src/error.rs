//! What kind of failure an answer is, as every front end tells them apart.
//! The engine judges which of its errors is which class; the daemon turns
//! a class into a status code and the error body's `kind` word; the client
//! reads the word back. One enum for all three is what keeps them agreeing.

/// The kind of failure, as a client of the API needs to tell them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// The object named does not exist.
    NotFound,
    /// The object exists, or is in a state that refuses the request.
    Conflict,
    /// Another change of the same project is under way; the same request
    /// will work once it is done.
    Busy,
    /// The request (or the stack file behind it) is wrong.
    InvalidInput,
    /// Something the host depends on did not answer in time; trying again
    /// later may work.
    Unavailable,
    /// A fault of the host or of stack itself.
    Internal,
}

impl ErrorClass {
    /// Every class, for tables and tests.
    pub const ALL: [ErrorClass; 6] = [
        ErrorClass::NotFound,
        ErrorClass::Conflict,
        ErrorClass::Busy,
        ErrorClass::InvalidInput,
        ErrorClass::Unavailable,
        ErrorClass::Internal,
    ];

    /// The word the native API's error bodies carry as `kind`.
    pub fn word(self) -> &'static str {
        match self {
            ErrorClass::NotFound => "not_found",
            ErrorClass::Conflict => "conflict",
            ErrorClass::Busy => "busy",
            ErrorClass::InvalidInput => "bad_request",
            ErrorClass::Unavailable => "unavailable",
            ErrorClass::Internal => "internal",
        }
    }

    /// The class of a body's `kind` word; words of the transport itself
    /// (`forbidden`, `method_not_allowed`) are none of these.
    pub fn from_word(word: &str) -> Option<ErrorClass> {
        ErrorClass::ALL.into_iter().find(|c| c.word() == word)
    }
}

/// A failed request, as any front end sees it: its class and what went
/// wrong, in words that name the object at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    pub class: ErrorClass,
    pub message: String,
}

impl Failure {
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Failure {
        Failure {
            class,
            message: message.into(),
        }
    }

    /// Another change of the project holds it: waiting and trying again
    /// will work.
    pub fn is_busy(&self) -> bool {
        self.class == ErrorClass::Busy
    }
}

impl miette::Diagnostic for Failure {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_reads_back_from_its_word() {
        for class in ErrorClass::ALL {
            assert_eq!(ErrorClass::from_word(class.word()), Some(class));
        }
        assert_eq!(ErrorClass::from_word("forbidden"), None);
    }
}
