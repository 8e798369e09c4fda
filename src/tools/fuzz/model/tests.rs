use super::*;

fn won(n: usize) -> Observed {
    Observed {
        wins: n,
        ..Default::default()
    }
}

fn code() -> Observed {
    Observed {
        code: true,
        ..Default::default()
    }
}

#[test]
fn refusals_are_always_allowed() {
    let ops = vec![
        Op::Authorize {
            code: 0,
            actor: Actor::A,
            deny: false,
            second_user: false,
        },
        Op::Redeem {
            code: 0,
            with: Actor::B,
            tokens: 0,
        },
        Op::Replay { tokens: 0 },
    ];
    assert!(check(&ops, &[Some(code()), Some(won(0)), Some(won(0))]).is_empty());
}

#[test]
fn second_token_from_one_code_is_a_violation() {
    let ops = vec![
        Op::Authorize {
            code: 0,
            actor: Actor::A,
            deny: false,
            second_user: false,
        },
        Op::Parallel {
            code: 0,
            with: Actor::A,
            count: 4,
            tokens: 0,
        },
    ];
    let v = check(&ops, &[Some(code()), Some(won(2))]);
    assert_eq!(v.len(), 1);
    assert_eq!(v[0].property, Property::SingleUse);
    assert_eq!(v[0].op, 1);
}

#[test]
fn wrong_actor_and_disabled_actor_and_expiry() {
    let ops = vec![
        Op::Authorize {
            code: 0,
            actor: Actor::A,
            deny: false,
            second_user: false,
        },
        Op::Disable { actor: Actor::A },
        Op::AdvanceClock { seconds: 700 },
        Op::Redeem {
            code: 0,
            with: Actor::B,
            tokens: 0,
        },
    ];
    let v = check(
        &ops,
        &[Some(code()), Some(won(0)), Some(won(0)), Some(won(1))],
    );
    let props: Vec<Property> = v.iter().map(|v| v.property).collect();
    assert_eq!(
        props,
        vec![
            Property::ActorBinding,
            Property::CodeExpiry,
            Property::DisabledActor
        ]
    );
}

#[test]
fn denied_code_without_consent_is_a_violation_but_with_stored_consent_is_not() {
    let ops = vec![Op::Authorize {
        code: 0,
        actor: Actor::A,
        deny: true,
        second_user: false,
    }];
    assert_eq!(check(&ops, &[Some(code())])[0].property, Property::Consent);
    let ops = vec![
        Op::Authorize {
            code: 0,
            actor: Actor::A,
            deny: false,
            second_user: false,
        },
        Op::Authorize {
            code: 1,
            actor: Actor::A,
            deny: true,
            second_user: false,
        },
    ];
    assert!(check(&ops, &[Some(code()), Some(code())]).is_empty());
}

#[test]
fn unobserved_steps_end_the_check() {
    let ops = vec![
        Op::Authorize {
            code: 0,
            actor: Actor::A,
            deny: false,
            second_user: false,
        },
        Op::Parallel {
            code: 0,
            with: Actor::A,
            count: 4,
            tokens: 0,
        },
    ];
    assert!(check(&ops, &[Some(code()), None]).is_empty());
}

fn approve(code: u32) -> Op {
    Op::Authorize {
        code,
        actor: Actor::A,
        deny: false,
        second_user: false,
    }
}

fn granted(scope: &str, escalated: bool) -> Observed {
    Observed {
        wins: 1,
        scope: Some(scope.into()),
        escalated,
        ..Default::default()
    }
}

#[test]
fn cross_client_success_is_a_violation_and_a_refusal_is_not() {
    let redeem = Op::Redeem {
        code: 0,
        with: Actor::A,
        tokens: 0,
    };
    for op in [Op::CrossRedeem { code: 0 }, Op::CrossRefresh { tokens: 0 }] {
        let first = if matches!(op, Op::CrossRefresh { .. }) {
            vec![approve(0), redeem.clone(), op]
        } else {
            vec![approve(0), op]
        };
        let n = first.len();
        let mut obs = vec![Some(code()); n];
        if n == 3 {
            obs[1] = Some(won(1));
        }
        obs[n - 1] = Some(won(1));
        let v = check(&first, &obs);
        assert_eq!(v.len(), 1, "{v:?}");
        assert_eq!(v[0].property, Property::CrossClient);
        assert!(Property::CrossClient.requirements().contains(&"OBO-SEC-6"));
        obs[n - 1] = Some(won(0));
        assert!(check(&first, &obs).is_empty());
    }
}

#[test]
fn a_wider_grant_is_a_violation_but_the_consented_or_a_narrower_one_is_not() {
    let ops = vec![
        approve(0),
        Op::Redeem {
            code: 0,
            with: Actor::A,
            tokens: 0,
        },
        Op::WideRefresh { tokens: 0 },
    ];
    let wide = [
        Some(code()),
        Some(won(1)),
        Some(granted("files.read files.write", true)),
    ];
    let v = check(&ops, &wide);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].property, Property::ScopeEscalation);
    assert!(Property::ScopeEscalation
        .requirements()
        .contains(&"OBO-INH-9"));
    // RFC 6749 §3.3: the server may grant less, ignore the parameter, or refuse.
    for obs in [granted("files.read", false), won(1), won(0)] {
        assert!(check(&ops, &[Some(code()), Some(won(1)), Some(obs)]).is_empty());
    }
    // At the token endpoint too; the redemption still uses the code up.
    let ops = vec![
        approve(0),
        Op::WideRedeem { code: 0 },
        Op::Redeem {
            code: 0,
            with: Actor::A,
            tokens: 0,
        },
    ];
    let v = check(
        &ops,
        &[
            Some(code()),
            Some(granted("files.read files.write", true)),
            Some(won(1)),
        ],
    );
    let props: Vec<Property> = v.iter().map(|v| v.property).collect();
    assert_eq!(props, vec![Property::ScopeEscalation, Property::SingleUse]);
}

#[test]
fn the_second_users_deny_never_has_stored_consent() {
    let ops = vec![
        approve(0),
        Op::Authorize {
            code: 1,
            actor: Actor::A,
            deny: true,
            second_user: true,
        },
    ];
    let v = check(&ops, &[Some(code()), Some(code())]);
    assert_eq!(v.len(), 1, "{v:?}");
    assert_eq!(v[0].property, Property::Consent);
}
