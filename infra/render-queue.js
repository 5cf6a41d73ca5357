// The render queue's visibility timeout: 6 × the render function's timeout (`renderTimeoutS`), as Lambda's SQS
// event source asks; no longer, or a crashed render waits that long before its retry. (osls params hold no
// arithmetic: a JS file source may, through `resolveVariable`.)
module.exports.visibilityTimeout = async ({ resolveVariable }) =>
  6 * Number(await resolveVariable('param:renderTimeoutS'));
