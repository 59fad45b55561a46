//! `POST /build`: the lines of Docker's classic build stream.

use serde::{Deserialize, Serialize};

/// One JSON line of the stream: build output (`stream`), the image id
/// (`aux`), or the error that ended the build.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildLine {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aux: Option<BuildAux>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(
        rename = "errorDetail",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub error_detail: Option<BuildErrorDetail>,
}

/// `{"ID": "sha256:..."}`: what `docker build -q` prints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildAux {
    #[serde(rename = "ID")]
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildErrorDetail {
    pub message: String,
}

impl BuildLine {
    /// Output text, shown as it is.
    pub fn text(text: impl Into<String>) -> BuildLine {
        BuildLine {
            stream: Some(text.into()),
            ..BuildLine::default()
        }
    }

    pub fn image(id: impl Into<String>) -> BuildLine {
        BuildLine {
            aux: Some(BuildAux { id: id.into() }),
            ..BuildLine::default()
        }
    }

    /// The last line of a failed build.
    pub fn failed(message: impl Into<String>) -> BuildLine {
        let message = message.into();
        BuildLine {
            error: Some(message.clone()),
            error_detail: Some(BuildErrorDetail { message }),
            ..BuildLine::default()
        }
    }
}
