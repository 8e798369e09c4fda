//! Delta debugging (Zeller's ddmin, complement-only variant) over the operation list, then a
//! one-at-a-time pass so that no single operation can be removed, then smaller parameters.

use super::op::{normalize, Op};

/// Decides whether a candidate sequence still shows the violation (running it on a fresh
/// target). Counts its runs so that shrinking stays within a budget.
// The shrinking loop awaits one candidate at a time on the caller's task: no Send bound needed.
#[allow(async_fn_in_trait)]
pub trait Oracle {
    async fn reproduces(&mut self, ops: &[Op]) -> bool;
    /// Runs left; shrinking stops at 0 with the smallest sequence so far.
    fn budget_left(&self) -> usize;
}

/// The smallest sequence found that still reproduces (starting from `ops`, which does).
pub async fn shrink(ops: &[Op], oracle: &mut impl Oracle) -> Vec<Op> {
    let mut cur = normalize(ops);
    let mut n = 2usize;
    while cur.len() >= 2 && oracle.budget_left() > 0 {
        let chunk = cur.len().div_ceil(n);
        let mut reduced = false;
        for start in (0..cur.len()).step_by(chunk.max(1)) {
            if oracle.budget_left() == 0 {
                break;
            }
            let candidate: Vec<Op> = cur
                .iter()
                .enumerate()
                .filter(|(i, _)| *i < start || *i >= start + chunk)
                .map(|(_, o)| o.clone())
                .collect();
            let candidate = normalize(&candidate);
            if candidate.len() < cur.len() && oracle.reproduces(&candidate).await {
                cur = candidate;
                n = n.saturating_sub(1).max(2);
                reduced = true;
                break;
            }
        }
        if !reduced {
            if n >= cur.len() {
                break;
            }
            n = (n * 2).min(cur.len());
        }
    }
    // One-minimal: no single operation can go.
    let mut i = 0;
    while i < cur.len() && oracle.budget_left() > 0 {
        let mut candidate = cur.clone();
        candidate.remove(i);
        let candidate = normalize(&candidate);
        if oracle.reproduces(&candidate).await {
            cur = candidate;
        } else {
            i += 1;
        }
    }
    // Smaller parameters: fewer parallel redemptions.
    for i in 0..cur.len() {
        if oracle.budget_left() == 0 {
            break;
        }
        if let Some(Op::Parallel {
            code,
            with,
            count,
            tokens,
        }) = cur.get(i).cloned()
        {
            if count > 2 {
                let mut candidate = cur.clone();
                candidate[i] = Op::Parallel {
                    code,
                    with,
                    count: 2,
                    tokens,
                };
                if oracle.reproduces(&candidate).await {
                    cur = candidate;
                }
            }
        }
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fuzz::op::Actor;

    /// Reproduces when the sequence holds an authorization of c0 and a disable of actor b.
    struct Needs {
        runs: usize,
    }

    impl Oracle for Needs {
        async fn reproduces(&mut self, ops: &[Op]) -> bool {
            self.runs += 1;
            ops.iter()
                .any(|o| matches!(o, Op::Authorize { code: 0, .. }))
                && ops.contains(&Op::Disable { actor: Actor::B })
        }
        fn budget_left(&self) -> usize {
            200usize.saturating_sub(self.runs)
        }
    }

    #[tokio::test]
    async fn shrinks_to_the_two_needed_operations() {
        let mut ops = vec![Op::Authorize {
            code: 0,
            actor: Actor::A,
            deny: false,
            second_user: false,
        }];
        for s in 0..10 {
            ops.push(Op::AdvanceClock { seconds: s });
        }
        ops.push(Op::Disable { actor: Actor::B });
        ops.push(Op::Redeem {
            code: 0,
            with: Actor::A,
            tokens: 0,
        });
        let mut oracle = Needs { runs: 0 };
        let min = shrink(&ops, &mut oracle).await;
        assert_eq!(
            min,
            vec![
                Op::Authorize {
                    code: 0,
                    actor: Actor::A,
                    deny: false,
                    second_user: false
                },
                Op::Disable { actor: Actor::B }
            ]
        );
        assert!(oracle.runs < 60, "{} runs", oracle.runs);
    }
}
