import envPaths from 'env-paths';

/** XDG locations: config ~/.config/corral, data ~/.local/share/corral, cache ~/.cache/corral. */
export const corralPaths = envPaths('corral', { suffix: '' });
