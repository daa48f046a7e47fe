//! Finite differences: one routine for every derivative taken by numbers,
//! whether `verify` compares a result with it or a derivative not yet
//! taken (in a derivation or an answer) is evaluated by it.

use std::cell::Cell;
use std::collections::HashMap;

use crate::expr::{ExprId, FamilyId, IndexVar};

use super::Instance;

/// A derivative estimated by numbers, with its own uncertainty.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The estimate.
    pub value: f64,
    /// How far it may be from the truth: the disagreement of two step sizes
    /// plus rounding; infinite at a kink.
    pub uncertainty: f64,
}

/// The derivative at `x` of a function given by its values `shifted(h)` at
/// `x + h` (`center` being its value at `x`): central differences at six
/// step sizes from large to small, the neighbouring pair that agrees best
/// extrapolated by Richardson's rule. At a kink the central difference can
/// look smooth (it averages the two slopes), so one-sided slopes are
/// compared too, and a kink gets an infinite uncertainty.
pub fn central_difference(x: f64, center: f64, mut shifted: impl FnMut(f64) -> f64) -> Estimate {
    let magnitude = center.abs().max(1.0);
    let scale = x.abs().clamp(1.0, 10.0);
    let steps: Vec<f64> = [1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5]
        .iter()
        .map(|s| s * scale)
        .collect();
    let sides: Vec<(f64, f64)> = steps.iter().map(|h| (shifted(*h), shifted(-*h))).collect();
    let quotients: Vec<f64> = steps
        .iter()
        .zip(&sides)
        .map(|(h, (up, down))| (up - down) / (2.0 * h))
        .collect();
    let mut best = Estimate {
        value: f64::NAN,
        uncertainty: f64::INFINITY,
    };
    for pair in 0..steps.len() - 1 {
        let (coarse, fine) = (quotients[pair], quotients[pair + 1]);
        let ratio = steps[pair] / steps[pair + 1];
        // Richardson extrapolation: the h^2 error terms cancel.
        let value = (ratio * ratio * fine - coarse) / (ratio * ratio - 1.0);
        let rounding = 8.0 * f64::EPSILON * magnitude / steps[pair + 1];
        let uncertainty = (fine - coarse).abs() + rounding;
        if uncertainty < best.uncertainty {
            best = Estimate { value, uncertainty };
        }
    }
    let kink_step = 4;
    let (up, down) = sides[kink_step];
    let forward = (up - center) / steps[kink_step];
    let backward = (center - down) / steps[kink_step];
    if (forward - backward).abs() > 1e-2 * best.value.abs().max(1.0) {
        best.uncertainty = f64::INFINITY;
    }
    best
}

impl Instance<'_> {
    /// Which families the values of `families` are computed from, they
    /// included.
    fn needed_for(&self, families: &[FamilyId]) -> Vec<bool> {
        let mut needed = vec![false; self.model.families.len()];
        let mut pending = families.to_vec();
        while let Some(next) = pending.pop() {
            if std::mem::replace(&mut needed[next.index()], true) {
                continue;
            }
            if let Some(definition) = self.model.family(next).definition {
                pending.extend(self.model.store.referenced_families(definition));
            }
        }
        needed
    }

    /// The families to recompute, in order, when an element of `family`
    /// moves: those it reaches that `needed` marks, except those `held`
    /// fixed.
    fn reached(&self, family: FamilyId, held: &[FamilyId], needed: &[bool]) -> Vec<FamilyId> {
        let store = &self.model.store;
        let mut changed = vec![false; self.model.families.len()];
        changed[family.index()] = true;
        let position = self.order.iter().position(|f| *f == family).unwrap_or(0);
        let mut reached = Vec::new();
        for next in &self.order[position + 1..] {
            if held.contains(next) || !needed[next.index()] {
                continue;
            }
            let Some(definition) = self.model.family(*next).definition else {
                continue;
            };
            if store
                .referenced_families(definition)
                .iter()
                .any(|f| changed[f.index()])
            {
                changed[next.index()] = true;
                reached.push(*next);
            }
        }
        reached
    }

    /// A copy of this instance with one element of `family` moved by `step`
    /// and the families `reached` recomputed; `None` where the network is
    /// not finite.
    fn shifted(
        &self,
        family: FamilyId,
        at: &[usize],
        step: f64,
        reached: &[FamilyId],
    ) -> Option<Instance<'_>> {
        if self.over_budget() {
            return None;
        }
        let mut values = self.values.clone();
        // Copying the values is work too.
        let copied: usize = values.iter().map(|t| t.data.len()).sum();
        self.work.set(self.work.get().saturating_add(copied as u64));
        let offset = values[family.index()].offset(at);
        values[family.index()].data[offset] += step;
        let mut scratch = Instance {
            model: self.model,
            order: self.order.clone(),
            sizes: self.sizes.clone(),
            stand_ins: self.stand_ins.clone(),
            values,
            adjoints: self.adjoints.clone(),
            work: Cell::new(self.work.get()),
            meter: self.meter,
        };
        for next in reached {
            if scratch.compute(*next).is_err() {
                self.work.set(scratch.work.get());
                return None;
            }
        }
        self.work.set(scratch.work.get());
        Some(scratch)
    }

    /// The derivative of `numerator[numerator_at]` with respect to
    /// `family[at]` by [`central_difference`], each shifted element's own
    /// inputs held fixed.
    pub fn finite_difference(
        &self,
        numerator: FamilyId,
        numerator_at: &[usize],
        family: FamilyId,
        at: &[usize],
    ) -> Estimate {
        let element = |instance: &Instance<'_>| {
            let tensor = &instance.values[numerator.index()];
            tensor.data[tensor.offset(numerator_at)]
        };
        let x = {
            let tensor = &self.values[family.index()];
            tensor.data[tensor.offset(at)]
        };
        let reached = self.reached(family, &[], &self.needed_for(&[numerator]));
        central_difference(x, element(self), |h| {
            self.shifted(family, at, h, &reached)
                .map_or(f64::NAN, |scratch| element(&scratch))
        })
    }

    /// The derivative of `of` with respect to `family[at]`, every family
    /// downstream of it recomputed except those `held` fixed.
    pub(super) fn eval_derivative(
        &self,
        of: ExprId,
        family: FamilyId,
        held: &[FamilyId],
        at: &[usize],
        env: &mut HashMap<IndexVar, usize>,
    ) -> f64 {
        let x = {
            let tensor = &self.values[family.index()];
            tensor.data[tensor.offset(at)]
        };
        let center = self.eval(of, env);
        let needed = self.needed_for(&self.model.store.referenced_families(of));
        let reached = self.reached(family, held, &needed);
        central_difference(x, center, |h| {
            self.shifted(family, at, h, &reached)
                .map_or(f64::NAN, |scratch| {
                    let value = scratch.eval(of, env);
                    self.work.set(scratch.work.get());
                    value
                })
        })
        .value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smooth_functions_are_differentiated_closely() {
        let estimate = central_difference(0.7, 0.7f64.sin(), |h| (0.7 + h).sin());
        assert!((estimate.value - 0.7f64.cos()).abs() < 1e-9);
        assert!(estimate.uncertainty < 1e-6);
    }

    #[test]
    fn kinks_are_noticed() {
        let estimate = central_difference(0.0, 0.0, |h: f64| h.abs());
        assert_eq!(estimate.uncertainty, f64::INFINITY);
    }
}
