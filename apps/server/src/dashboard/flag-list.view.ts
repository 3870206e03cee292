import { ApiProperty } from '@nestjs/swagger';
import { PLAN_STATES, type PlanState } from '../rollouts/plan-lifecycle.js';

/** Who made the last change to a flag in one environment, and how (from the audit log). */
export class LastChangeView {
  @ApiProperty({ description: 'The person\'s email, else the key\'s or person\'s name' }) by!: string;
  @ApiProperty({ enum: ['session', 'key', 'system'], nullable: true, type: String }) via!: 'session' | 'key' | 'system' | null;
  @ApiProperty({ example: 'flag-config.kill' }) action!: string;
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
}

/** The rollout plan of a flag in one environment that has not finished, if any (docs/rollouts.md). */
export class ActivePlanView {
  @ApiProperty() id!: string;
  @ApiProperty({ enum: ['pending', 'running', 'paused', 'awaiting-approval'] }) state!: 'pending' | 'running' | 'paused' | 'awaiting-approval';
  @ApiProperty({ nullable: true, type: Number, description: 'The current step, counted from 1; null before the start' }) step!: number | null;
  @ApiProperty({ description: 'How many steps the plan has' }) steps!: number;
  @ApiProperty({ nullable: true, type: Number, description: "The current step's percentage" }) percentage!: number | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) nextStepAt!: string | null;
}

/** One row of the dashboard's flag list: the definition and its state in one environment. */
export class FlagListItemView {
  @ApiProperty() key!: string;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ type: [String] }) tags!: string[];
  @ApiProperty({ description: 'On in this environment (false: killed or never switched on)' }) enabled!: boolean;
  @ApiProperty({ description: 'The config version in this environment (send it as If-Match)' }) version!: number;
  @ApiProperty({ description: 'Rules in this environment' }) rules!: number;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'The rollout percentage of the only rule, or of the first rule with a rollout below 100; null with no rules',
  })
  rolloutPercentage!: number | null;
  @ApiProperty({ type: ActivePlanView, nullable: true }) plan!: ActivePlanView | null;
  @ApiProperty({ type: LastChangeView, nullable: true }) lastChange!: LastChangeView | null;
}

export class FlagListView {
  @ApiProperty() environment!: string;
  @ApiProperty({ description: 'The environment\'s revision this list was read at' }) revision!: number;
  @ApiProperty({ type: [FlagListItemView] }) items!: FlagListItemView[];
}

/** An event of the dashboard's live stream (docs/dashboard.md). */
export class LiveEventView {
  @ApiProperty() environment!: string;
  @ApiProperty() revision!: number;
  @ApiProperty({ enum: ['change', 'kill', 'ruleset'] }) kind!: 'change' | 'kill' | 'ruleset';
  @ApiProperty({ type: [String], description: 'Flags upserted or deleted (empty for `ruleset`: reload everything)' }) flags!: string[];
  @ApiProperty({ type: [String] }) cohorts!: string[];
}

/** An `event: plan` of the dashboard's live stream: a rollout plan changed (docs/dashboard.md). */
export class PlanEventView {
  @ApiProperty() environment!: string;
  @ApiProperty({ description: 'The plan\'s id' }) plan!: string;
  @ApiProperty() flag!: string;
  @ApiProperty({ enum: PLAN_STATES, description: 'The state the change left it in' }) state!: PlanState;
}
