//! Docker's short flags after a verb. `-f` and `-p` are Compose's global
//! flags (stack file, project name) and work anywhere, as in
//! `stack up -f stack.yaml`. After some verbs Docker gives the same
//! letters another meaning that its users type without thinking:
//! `logs -f` follows, `rm -f` forces, `events -f` filters, `run -p`
//! publishes. The parser cannot hold both meanings of one short flag, so
//! before parsing, a `-f` or `-p` written after such a verb is spelled as
//! that verb's own long flag. Which verbs those are is read from the
//! command tree itself (a verb that has `--follow`, `--force`, `--filter`
//! or `--publish`), so a verb gains the Docker meaning by declaring the
//! flag. Nothing after a `run`/`exec` command's first operand (the
//! container's own command line) and nothing after `--` is touched.

use std::ffi::OsString;

use clap::Command;

/// The long flags that `-f`, then `-p`, stand for after a verb that has
/// one of them, in order of preference.
const MEANINGS: &[(char, &[&str])] = &[('f', &["follow", "force", "filter"]), ('p', &["publish"])];

/// Verbs whose operands after the first are another program's arguments.
const TRAILING_COMMAND: &[&str] = &["run", "exec"];

/// Rewrites `argv` (program name first) as described above.
pub fn docker_shorts(argv: Vec<OsString>, root: &Command) -> Vec<OsString> {
    let mut out = Vec::with_capacity(argv.len());
    let mut tokens = argv.into_iter();
    if let Some(program) = tokens.next() {
        out.push(program);
    }
    let mut node = root;
    let mut at_root = true;
    while let Some(token) = tokens.next() {
        let Some(text) = token.to_str().map(str::to_string) else {
            out.push(token);
            continue;
        };
        if text == "--" {
            out.push(token);
            break;
        }
        if let Some(long) = text.strip_prefix("--") {
            out.push(token);
            if !long.contains('=') && takes_value_long(node, root, long) {
                out.extend(tokens.next());
            }
            continue;
        }
        if let Some(shorts) = text.strip_prefix('-').filter(|s| !s.is_empty()) {
            let letter = shorts.chars().next().unwrap_or('-');
            let rest = &shorts[letter.len_utf8()..];
            if let Some(long) = (!at_root).then(|| docker_meaning(node, letter)).flatten() {
                let takes = takes_value_long(node, root, long);
                if takes && !rest.is_empty() {
                    let value = rest.strip_prefix('=').unwrap_or(rest);
                    out.push(format!("--{long}={value}").into());
                } else if rest.is_empty() {
                    out.push(format!("--{long}").into());
                    if takes {
                        out.extend(tokens.next());
                    }
                } else {
                    // A cluster such as `-fq`: leave it to the parser.
                    out.push(token);
                }
                continue;
            }
            out.push(token);
            if rest.is_empty() && takes_value_short(node, root, letter) {
                out.extend(tokens.next());
            }
            continue;
        }
        // An operand: a verb (descend), or an operand of the verb.
        out.push(token);
        if let Some(sub) = node.find_subcommand(&text) {
            node = sub;
            at_root = false;
        } else if TRAILING_COMMAND.contains(&node.get_name()) {
            break;
        }
    }
    out.extend(tokens);
    out
}

/// The long flag `-letter` stands for after this verb, when the verb has
/// a Docker meaning for it.
fn docker_meaning(node: &Command, letter: char) -> Option<&'static str> {
    let (_, longs) = MEANINGS.iter().find(|(l, _)| *l == letter)?;
    longs
        .iter()
        .copied()
        .find(|long| node.get_arguments().any(|a| a.get_long() == Some(long)))
}

fn takes_value_long(node: &Command, root: &Command, long: &str) -> bool {
    [node, root]
        .iter()
        .flat_map(|c| c.get_arguments())
        .find(|a| {
            a.get_long() == Some(long) || a.get_all_aliases().is_some_and(|al| al.contains(&long))
        })
        .is_some_and(|a| a.get_action().takes_values())
}

fn takes_value_short(node: &Command, root: &Command, letter: char) -> bool {
    [node, root]
        .iter()
        .flat_map(|c| c.get_arguments())
        .find(|a| a.get_short() == Some(letter))
        .is_some_and(|a| a.get_action().takes_values())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn rewrite(line: &str) -> String {
        let argv: Vec<OsString> = line.split(' ').map(OsString::from).collect();
        let out = docker_shorts(argv, &crate::commands::Cli::command());
        out.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn global_flags_keep_their_meaning_where_the_verb_has_no_other() {
        for line in [
            "stack -f a.yaml up -d",
            "stack up -f a.yaml -d",
            "stack -p demo down",
            "stack down -p demo",
            "stack ps -p demo -a",
            "stack kube down -p shop -v",
            "stack -f x.yaml logs",
        ] {
            assert_eq!(rewrite(line), line);
        }
    }

    #[test]
    fn docker_meanings_after_their_verbs() {
        assert_eq!(rewrite("stack logs -f web"), "stack logs --follow web");
        assert_eq!(
            rewrite("stack -f a.yaml logs -f"),
            "stack -f a.yaml logs --follow"
        );
        assert_eq!(
            rewrite("stack container logs -f c1"),
            "stack container logs --follow c1"
        );
        assert_eq!(
            rewrite("stack container rm -f c1"),
            "stack container rm --force c1"
        );
        assert_eq!(
            rewrite("stack volume rm -f v1"),
            "stack volume rm --force v1"
        );
        assert_eq!(
            rewrite("stack events -f type=container"),
            "stack events --filter type=container"
        );
        assert_eq!(
            rewrite("stack run -p 8080:80 -p53:53/udp img"),
            "stack run --publish 8080:80 --publish=53:53/udp img"
        );
    }

    #[test]
    fn the_containers_own_command_line_is_left_alone() {
        assert_eq!(
            rewrite("stack run --name x -e K=V img ls -f -p"),
            "stack run --name x -e K=V img ls -f -p"
        );
        assert_eq!(
            rewrite("stack run -p 80:80 img tail -f /log"),
            "stack run --publish 80:80 img tail -f /log"
        );
        assert_eq!(
            rewrite("stack exec web tail -f /log"),
            "stack exec web tail -f /log"
        );
        assert_eq!(rewrite("stack logs -- -f"), "stack logs -- -f");
    }

    #[test]
    fn every_verb_with_a_docker_meaning_parses() {
        use clap::Parser;
        for line in [
            "stack logs -f web",
            "stack container rm -f c1",
            "stack run -p 8080:80 --rootfs /r sh",
            "stack up -f a.yaml -d",
        ] {
            let argv: Vec<OsString> = line.split(' ').map(OsString::from).collect();
            let argv = docker_shorts(argv, &crate::commands::Cli::command());
            crate::commands::Cli::try_parse_from(argv).unwrap_or_else(|e| panic!("{line}: {e}"));
        }
    }
}
