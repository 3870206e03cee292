import { ApiProperty } from '@nestjs/swagger';
import { ReasonDto } from '../../common/reason.dto.js';
import { IsOptionalDescription, IsOptionalName, IsResourceKey, KnownElsewhere } from '../../common/validation.js';

export class CreateEnvironmentDto extends ReasonDto {
  @IsResourceKey({ example: 'staging' })
  key!: string;

  @IsOptionalName({ description: 'Defaults to the key' })
  name?: string;

  @IsOptionalDescription()
  description?: string;
}

@KnownElsewhere({ key: "an environment's key cannot change; create a new environment" })
export class UpdateEnvironmentDto extends ReasonDto {
  @IsOptionalName()
  name?: string;

  @IsOptionalDescription()
  description?: string;
}

export class EnvironmentView {
  @ApiProperty() key!: string;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty({ description: 'Grows by one with every committed change in the environment' }) revision!: number;
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
}

export class EnvironmentPageView {
  @ApiProperty({ type: [EnvironmentView] }) items!: EnvironmentView[];
  @ApiProperty({ nullable: true, type: String }) nextCursor!: string | null;
}
