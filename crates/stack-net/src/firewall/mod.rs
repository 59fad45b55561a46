//! The firewall driver: applies a [`RuleSet`] with `iptables` (the
//! nf_tables backend here), one `iptables-restore --noflush` per change,
//! never one process per rule (each exec costs ~4 ms).
//!
//! Chains are re-filled from the whole rule set on every change: the inputs
//! are small, the result is the same whatever happened before, and a
//! partial flush by someone else is repaired by the next change.
//! [`Firewall::reconcile`] reads `iptables-save` once to also restore
//! missing jumps and chains.

pub mod rules;

use std::future::Future;

use rules::{render_apply, render_remove, Observed};
pub use rules::{NetworkRules, PortForward, RuleSet};

use crate::error::{NetError, Result};

/// Runs the iptables tools; a seam so the driver is tested without root.
pub trait IptablesRunner: Send + Sync {
    /// `iptables-save` output for the filter and nat tables.
    fn save(&self) -> impl Future<Output = Result<String>> + Send;
    /// Feeds `input` to `iptables-restore --noflush`.
    fn restore(&self, input: String) -> impl Future<Output = Result<()>> + Send;
}

/// The real tools, from `PATH`.
#[derive(Debug, Clone, Default)]
pub struct SystemIptables;

impl IptablesRunner for SystemIptables {
    async fn save(&self) -> Result<String> {
        let out = tokio::process::Command::new("iptables-save")
            .output()
            .await
            .map_err(NetError::io("run iptables-save"))?;
        if !out.status.success() {
            return Err(NetError::Firewall(format!(
                "iptables-save failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    async fn restore(&self, input: String) -> Result<()> {
        use tokio::io::AsyncWriteExt;
        let mut child = tokio::process::Command::new("iptables-restore")
            .args(["--noflush", "--wait"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(NetError::io("run iptables-restore"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(input.as_bytes())
                .await
                .map_err(NetError::io("write to iptables-restore"))?;
        }
        let out = child
            .wait_with_output()
            .await
            .map_err(NetError::io("wait for iptables-restore"))?;
        if !out.status.success() {
            return Err(NetError::Firewall(format!(
                "iptables-restore failed: {}\ninput was:\n{input}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(())
    }
}

/// Keeps our chains equal to the rule set it is given.
#[derive(Debug)]
pub struct Firewall<R> {
    runner: R,
    /// Set once jumps and chains were seen (or made) in place, so later
    /// changes need no `iptables-save` first.
    base_in_place: bool,
}

impl<R: IptablesRunner> Firewall<R> {
    pub fn new(runner: R) -> Firewall<R> {
        Firewall {
            runner,
            base_in_place: false,
        }
    }

    /// Makes our chains hold exactly `set`: one `iptables-restore`, plus
    /// one `iptables-save` the first time.
    pub async fn apply(&mut self, set: &RuleSet) -> Result<()> {
        if !self.base_in_place {
            self.reconcile(set).await?;
            return Ok(());
        }
        self.runner.restore(render_apply(set, None)).await
    }

    /// Reads what is in place and repairs any difference (flushed chains,
    /// deleted jumps). Returns whether a repair was needed.
    pub async fn reconcile(&mut self, set: &RuleSet) -> Result<bool> {
        let observed = Observed::parse(&self.runner.save().await?);
        if observed.matches(&set.chains()) {
            self.base_in_place = true;
            return Ok(false);
        }
        self.runner
            .restore(render_apply(set, Some(&observed)))
            .await?;
        self.base_in_place = true;
        Ok(true)
    }

    /// Reads what is in place, inserts missing jumps and re-fills every
    /// chain whatever it holds (used when the inputs may have changed
    /// while we were not running, e.g. a new resolver port).
    pub async fn refresh(&mut self, set: &RuleSet) -> Result<()> {
        let observed = Observed::parse(&self.runner.save().await?);
        self.runner
            .restore(render_apply(set, Some(&observed)))
            .await?;
        self.base_in_place = true;
        Ok(())
    }

    /// Removes every jump and chain of ours (when the last network goes).
    pub async fn remove_all(&mut self) -> Result<()> {
        self.base_in_place = false;
        let observed = Observed::parse(&self.runner.save().await?);
        match render_remove(&observed) {
            Some(input) => self.runner.restore(input).await,
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests;
