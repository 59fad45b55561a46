//! The plain-text plan `stack up --dry-run` prints.

use std::fmt::Write;

use super::Plan;

impl Plan {
    /// One line per action, under a heading per wave; then what is up to
    /// date and the warnings. Deterministic: the same inputs print the same.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let waves = self.waves();
        let _ = writeln!(
            out,
            "project {}: {} {}, {} up to date",
            self.project,
            self.actions.len(),
            if self.actions.len() == 1 {
                "action"
            } else {
                "actions"
            },
            self.unchanged.len()
        );
        for (index, wave) in waves.iter().enumerate() {
            let _ = writeln!(out, "wave {}:", index + 1);
            for action in wave {
                let _ = writeln!(out, "  {action}");
            }
        }
        if !self.unchanged.is_empty() {
            let _ = writeln!(out, "up to date: {}", self.unchanged.join(", "));
        }
        for warning in &self.warnings {
            let _ = writeln!(out, "warning: {warning}");
        }
        out
    }
}
