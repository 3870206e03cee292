import { Body, Controller, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ReadOperation } from '../common/auth.js';
import { EvaluateDto } from './dto/evaluate.dto.js';
import { EvaluateService } from './evaluate.service.js';

@ApiTags('evaluate')
@ApiBearerAuth()
@Controller('api/v1/environments/:env/evaluate')
export class EvaluateController {
  constructor(private readonly evaluator: EvaluateService) {}

  @Post()
  @HttpCode(200)
  @ReadOperation()
  @ApiOperation({ summary: 'Evaluate one flag (a Result) or all flags for a context, as an SDK would' })
  evaluate(@Param('env') env: string, @Body() dto: EvaluateDto) {
    return this.evaluator.evaluate(env, dto);
  }
}
