import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { EvaluationsView, ResultView } from './dto/evaluation.view.js';
import { ReadOperation } from '../common/auth.js';
import { EvaluateDto } from './dto/evaluate.dto.js';
import { EvaluateService } from './evaluate.service.js';

@ApiTags('evaluate')
@ApiBearerAuth()
@ApiExtraModels(ResultView, EvaluationsView)
@Controller('api/v1/environments/:env/evaluate')
export class EvaluateController {
  constructor(private readonly evaluator: EvaluateService) {}

  @Post()
  @HttpCode(200)
  @ReadOperation()
  @ApiOperation({ summary: 'Evaluate one flag (a Result) or all flags for a context, as an SDK would' })
  @ApiOkResponse({ schema: { oneOf: [{ $ref: getSchemaPath(ResultView) }, { $ref: getSchemaPath(EvaluationsView) }] } })
  evaluate(@Param('env') env: string, @Body() dto: EvaluateDto) {
    return this.evaluator.evaluate(env, dto);
  }
}
