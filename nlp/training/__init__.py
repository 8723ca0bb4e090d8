"""Everything that learns from labelled text, in one place.

    sentiment_table   trains the shipped word/bigram table (data/sentiment_weights.json;
                      `python -m nlp.training.sentiment_table EVAL_DIR`), on the licensed
                      sets' non-test rows; its run-time scorer is `nlp.word_weights`
    textcat           `listening-path nlp train`: a spaCy textcat on a team's labels
                      (sampling, training, the dev-fitted blend weight)
    embeddings        the optional sentence-embedding classifier (`--embeddings`, the
                      `embeddings` extra) and its pipe `lp_embedding_classifier`
    blend             how a trained model's probabilities are blended with the rules'
                      evidence at run time (used by `nlp.pipeline`)

The default pipeline needs only `blend` (and `embeddings` registers its factory); no
module here imports an encoder or NumPy training code unless asked to.
"""
