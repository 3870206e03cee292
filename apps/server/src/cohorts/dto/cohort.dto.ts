import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional } from 'class-validator';
import { PageQuery } from '../../common/paging.js';
import { ReasonDto } from '../../common/reason.dto.js';
import { IsOptionalArrayOf, IsOptionalDescription, IsOptionalName, IsResourceKey, KnownElsewhere } from '../../common/validation.js';
import { ConditionDto } from '../../flags/dto/flag-config.dto.js';

/** Most member keys one call may add, remove or exclude, per list. */
export const MAX_MEMBERS_PER_CALL = 100_000;
export const MAX_MEMBER_KEY_LENGTH = 256;

const MEMBERS = 'set members with POST /api/v1/cohorts/:key/members';

@KnownElsewhere({ members: MEMBERS, included: MEMBERS, excluded: MEMBERS, add: MEMBERS, remove: MEMBERS, exclude: MEMBERS })
class CohortFieldsDto extends ReasonDto {
  @IsOptionalName()
  name?: string;

  @IsOptionalDescription()
  description?: string;

  @IsOptionalArrayOf(ConditionDto, 50, { description: 'A context matching all of them is a member (unless excluded)' })
  conditions?: ConditionDto[];
}

export class CreateCohortDto extends CohortFieldsDto {
  @IsResourceKey({ example: 'beta-testers' })
  key!: string;
}

@KnownElsewhere({ key: "a cohort's key cannot change; create a new cohort" })
export class UpdateCohortDto extends CohortFieldsDto {}

/** A member list: documented here, validated in one pass by `MembersBodyPipe` (an upload's lists
 *  hold 100,000 keys each), which hands the rest of the body to the class validators. */
function MemberList(description: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: [String], maxItems: MAX_MEMBERS_PER_CALL, items: { type: 'string', minLength: 1, maxLength: MAX_MEMBER_KEY_LENGTH }, description }),
    IsOptional(),
  );
}

/** Bulk membership change: up to 100,000 context keys per list and call. */
export class CohortMembersDto extends ReasonDto {
  @MemberList('Keys to include (moved from the excluded list if there)')
  add?: string[];

  @MemberList('Keys to drop from either list')
  remove?: string[];

  @MemberList('Keys to exclude: never members, whatever the conditions')
  exclude?: string[];
}

export class MembersQuery extends PageQuery {
  @ApiPropertyOptional({ enum: ['included', 'excluded'], default: 'included' })
  @IsOptional()
  @IsIn(['included', 'excluded'])
  list?: 'included' | 'excluded';
}

export class MemberCountsView {
  @ApiProperty() included!: number;
  @ApiProperty() excluded!: number;
}

export class CohortView {
  @ApiProperty() key!: string;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ type: [ConditionDto] }) conditions!: ConditionDto[];
  @ApiProperty({ type: () => MemberCountsView, description: 'Member counts, kept with every write' }) counts!: MemberCountsView;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class CohortPageView {
  @ApiProperty({ type: [CohortView] }) items!: CohortView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}

export class MembersAppliedView {
  @ApiProperty() added!: number;
  @ApiProperty() removed!: number;
  @ApiProperty() excluded!: number;
}

export class MembersResultView {
  @ApiProperty() key!: string;
  @ApiProperty({ type: MemberCountsView }) counts!: MemberCountsView;
  @ApiProperty({ type: MembersAppliedView, description: 'What this call changed' }) applied!: MembersAppliedView;
  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'The revision that carries this change, by environment key (cohorts are shared by every environment)',
  })
  revisions!: Record<string, number>;
}

export class MembersPageView {
  @ApiProperty({ type: [String] }) items!: string[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
  @ApiProperty({ type: MemberCountsView }) counts!: MemberCountsView;
}

export class MemberLookupView {
  @ApiProperty({ description: 'The member key asked about' }) member!: string;
  @ApiProperty({
    enum: ['included', 'excluded'],
    nullable: true,
    description: 'The list that holds the key, or null when neither does (conditions may still make the context a member)',
  })
  list!: 'included' | 'excluded' | null;
}
