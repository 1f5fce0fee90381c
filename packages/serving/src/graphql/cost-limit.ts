import {
  type ASTVisitor,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';

/**
 * A validation rule that refuses a query whose cost (every field selected, fragments expanded,
 * weighted by `costs`) is over `maxCost`, before anything runs. Depth is limited separately.
 */
export function costLimitRule(maxCost: number, costs: Record<string, number>) {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const def of context.getDocument().definitions) {
      if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
    }
    const costOf = (set: SelectionSetNode | undefined, seen: Set<string>): number => {
      if (!set) return 0;
      let total = 0;
      for (const selection of set.selections) {
        if (total > maxCost) return total;
        if (selection.kind === Kind.FIELD) {
          total += (costs[selection.name.value] ?? 1) + costOf(selection.selectionSet, seen);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          total += costOf(selection.selectionSet, seen);
        } else {
          const name = selection.name.value;
          if (seen.has(name)) continue;
          total += costOf(fragments.get(name)?.selectionSet, new Set([...seen, name]));
        }
      }
      return total;
    };
    return {
      OperationDefinition(node) {
        const cost = costOf(node.selectionSet, new Set());
        if (cost > maxCost) {
          context.reportError(
            new GraphQLError(`query cost of at least ${cost} is over the limit of ${maxCost}`, {
              nodes: [node],
            }),
          );
        }
      },
    };
  };
}
