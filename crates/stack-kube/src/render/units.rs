//! Compose quantities (durations, byte sizes, CPU fractions) in the forms
//! Kubernetes takes.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

/// Whole seconds, rounded up so a timeout never gets shorter, and at
/// least `min` (probes refuse 0 for periods and timeouts).
pub fn seconds_ceil(duration: Duration, min: i64) -> i64 {
    let secs = duration.as_secs() + u64::from(duration.subsec_nanos() > 0);
    i64::try_from(secs).unwrap_or(i64::MAX).max(min)
}

/// Bytes as a Kubernetes quantity, in the largest binary unit that divides
/// it exactly (`536870912` → `512Mi`), so manifests read like the file.
pub fn bytes(value: u64) -> Quantity {
    const UNITS: [(u64, &str); 4] = [
        (1 << 40, "Ti"),
        (1 << 30, "Gi"),
        (1 << 20, "Mi"),
        (1 << 10, "Ki"),
    ];
    for (size, suffix) in UNITS {
        if value >= size && value.is_multiple_of(size) {
            return Quantity(format!("{}{suffix}", value / size));
        }
    }
    Quantity(value.to_string())
}

/// A CPU fraction (`0.5`) as millicores (`500m`); whole CPUs stay whole.
pub fn cpus(value: f64) -> Quantity {
    let millis = (value * 1000.0).round() as i64;
    if millis % 1000 == 0 {
        Quantity((millis / 1000).to_string())
    } else {
        Quantity(format!("{millis}m"))
    }
}

/// Escapes a value Compose passes on literally (env values, command, args)
/// so the kubelet's `$(VAR)` expansion gives it back unchanged: the kubelet
/// turns `$$` into `$` and `$(NAME)` into a variable, so each `$` followed
/// by `$` or `(` is doubled. Other `$` are left alone, as the kubelet does.
pub fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        out.push(ch);
        if ch == '$' && matches!(chars.peek(), Some('$' | '(')) {
            out.push('$');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_up_with_a_floor() {
        assert_eq!(seconds_ceil(Duration::from_millis(1500), 1), 2);
        assert_eq!(seconds_ceil(Duration::from_secs(10), 1), 10);
        assert_eq!(seconds_ceil(Duration::ZERO, 1), 1);
        assert_eq!(seconds_ceil(Duration::ZERO, 0), 0);
    }

    #[test]
    fn byte_quantities() {
        assert_eq!(bytes(512 << 20).0, "512Mi");
        assert_eq!(bytes(1 << 30).0, "1Gi");
        assert_eq!(bytes(1536).0, "1536");
        assert_eq!(bytes(3 << 10).0, "3Ki");
        assert_eq!(bytes(100).0, "100");
    }

    #[test]
    fn cpu_quantities() {
        assert_eq!(cpus(0.5).0, "500m");
        assert_eq!(cpus(2.0).0, "2");
        assert_eq!(cpus(0.25).0, "250m");
    }

    #[test]
    fn kubelet_expansion_is_escaped() {
        assert_eq!(literal("echo $(date) $HOME"), "echo $$(date) $HOME");
        assert_eq!(literal("a$$b"), "a$$$b");
        assert_eq!(literal("cost: 5$"), "cost: 5$");
    }
}
