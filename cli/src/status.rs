//! `fast-autoscaler status`: one row per target, read now (see
//! `fast_autoscaler_worker::status`), as a table, or one JSON line each.

use std::fmt::Write as _;
use std::process::ExitCode;

use fast_autoscaler_worker::status::StatusRow;
use fast_autoscaler_worker::{Autoscaler, AutoscalerConfig};

use crate::{print_json, EXIT_BAD_CONFIG};

pub async fn status(config: AutoscalerConfig, aws: &aws_config::SdkConfig, json: bool) -> ExitCode {
    let autoscaler = match Autoscaler::new(config, aws) {
        Ok(autoscaler) => autoscaler,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(EXIT_BAD_CONFIG);
        }
    };
    let rows = autoscaler.status().await;
    if json {
        for row in &rows {
            match serde_json::to_value(row) {
                Ok(value) => print_json(&value),
                Err(e) => eprintln!("cannot print a row: {e}"),
            }
        }
    } else {
        print!("{}", table(&rows));
    }
    // A target that could not be read is worth a non-zero exit, for scripts.
    if rows.iter().any(|r| !r.problems.is_empty()) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

const HEADINGS: [&str; 8] = [
    "TARGET",
    "TYPE",
    "DESIRED/RUNNING",
    "LAST ACTION",
    "AGE",
    "COOLDOWN",
    "PAUSED",
    "CLAIM",
];

/// The rows as a table, and under each its last action's reason and any
/// problem, indented.
pub fn table(rows: &[StatusRow]) -> String {
    let cells: Vec<[String; 8]> = rows.iter().map(cells).collect();
    let mut widths = HEADINGS.map(str::len);
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, row: &[String]| {
        let padded: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(out, "{}", padded.join("  ").trim_end());
    };
    line(&mut out, &HEADINGS.map(String::from));
    for (row, cell) in rows.iter().zip(&cells) {
        line(&mut out, cell);
        let reason = row.standing.as_ref().and_then(|s| s.last_action.as_ref());
        if let Some(last) = reason {
            let _ = writeln!(out, "    reason: {}", last.reason);
        }
        for problem in &row.problems {
            let _ = writeln!(out, "    problem: {problem}");
        }
    }
    out
}

fn cells(row: &StatusRow) -> [String; 8] {
    let counts = match (row.desired, row.running) {
        (Some(d), Some(r)) => {
            let starting = row
                .starting
                .filter(|s| *s > 0)
                .map_or(String::new(), |s| format!(" (+{s} starting)"));
            let protected = row
                .protected
                .map_or(String::new(), |p| format!(" [{p} protected]"));
            format!("{d}/{r}{starting}{protected}")
        }
        _ => "?".into(),
    };
    let standing = row.standing.as_ref();
    let last = standing.and_then(|s| s.last_action.as_ref());
    let action = last.map_or("-".into(), |a| {
        format!("{} {} → {}", a.action, a.from, a.to)
    });
    let age = last.map_or("-".into(), |a| duration(a.age_s));
    let cooldown = standing.map_or("?".into(), |s| match (s.scale_in_in_s, s.scale_out_in_s) {
        (0, 0) => "-".into(),
        (i, 0) => format!("in {}", duration(i)),
        (0, o) => format!("out {}", duration(o)),
        (i, o) => format!("in {}, out {}", duration(i), duration(o)),
    });
    let paused = standing
        .and_then(|s| s.pause.as_ref())
        .map_or("-".into(), |p| match p.at {
            Some(at) => format!("at {at}"),
            None => "yes".into(),
        });
    let claim = standing
        .and_then(|s| s.claim_in_progress.as_ref())
        .map_or("-".into(), |_| "in progress".into());
    [
        row.service.clone(),
        row.target_type.clone(),
        counts,
        action,
        age,
        cooldown,
        paused,
        claim,
    ]
}

/// `95` → `1m35s`, `7200` → `2h0m`.
fn duration(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{}s", s / 60, s % 60),
        s => format!("{}h{}m", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fast_autoscaler_worker::core::policy::Action;
    use fast_autoscaler_worker::core::standing::{LastAction, Standing};

    #[test]
    fn a_row_per_target_with_its_reason_and_problems_beneath() {
        let standing = Standing {
            last_action: Some(LastAction {
                action: Action::ScaleOut,
                from: 2,
                to: 6,
                age_s: 95,
                reason: "surge".into(),
            }),
            scale_in_in_s: 25,
            scale_out_in_s: 0,
            pause: None,
            claim_in_progress: None,
            problem: None,
        };
        let rows = [
            StatusRow {
                service: "prod/workers".into(),
                target_type: "ecs_service".into(),
                desired: Some(6),
                running: Some(4),
                starting: Some(2),
                protected: None,
                standing: Some(standing),
                problems: vec![],
            },
            StatusRow {
                service: "ec2_asg:gpu".into(),
                target_type: "ec2_asg".into(),
                desired: None,
                running: None,
                starting: None,
                protected: None,
                standing: None,
                problems: vec!["Auto Scaling group \"gpu\" not found".into()],
            },
        ];
        let shown = table(&rows);
        let lines: Vec<&str> = shown.lines().collect();
        assert!(lines[0].starts_with("TARGET"), "{shown}");
        assert!(
            lines[1].contains("6/4 (+2 starting)")
                && lines[1].contains("scale_out 2 → 6")
                && lines[1].contains("1m35s")
                && lines[1].contains("in 25s"),
            "{shown}"
        );
        assert_eq!(lines[2], "    reason: surge");
        assert!(
            lines[3].starts_with("ec2_asg:gpu") && lines[3].contains('?'),
            "{shown}"
        );
        assert!(lines[4].contains("problem: Auto Scaling group"), "{shown}");
    }
}
